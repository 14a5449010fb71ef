"""The co-occurrence neighbours over all events, counted on Spark.

The counts are a self-join of the distinct (customer, product) pairs on the customer, summed per
product pair by Spark; each partition of target products then keeps its `k` best by the default
engine's own rule (`top_neighbours`), so only products × k rows reach the driver.
"""

from collections.abc import Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark import Broadcast
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from vitrina_shared.schema import Columns
from vitrina_trainer.candidates import neighbour_matrix, top_neighbours
from vitrina_trainer.spark.scoring import whole_groups

CODE = "code"
TARGET = "target"
COUNT = "count"
CHUNK_PAIRS = 500_000
SCHEMA = f"{TARGET} long, {CODE} long, {Columns.SCORE} float"


def _top(batches: Iterator[pd.DataFrame], customers: Broadcast, k: int) -> Iterator[pd.DataFrame]:
    """MapInPandas over pair counts sorted by target: each target's `k` nearest, chunk by chunk."""
    for chunk in whole_groups(batches, TARGET, CHUNK_PAIRS):
        target, item, score = top_neighbours(
            chunk[TARGET].to_numpy(), chunk[CODE].to_numpy(), chunk[COUNT].to_numpy(),
            customers.value, k,
        )  # fmt: skip
        yield pd.DataFrame({TARGET: target, CODE: item, Columns.SCORE: score})


def neighbours_on_spark(
    events: DataFrame, items: pd.Index, k: int, partitions: int
) -> sp.csr_matrix:
    """Items × items (codes of `items`): each product's `k` nearest by cosine over all events.

    Equal to `cosine_neighbours` of the same events' customer × product matrix; products not in
    `items` are left out, as the default engine leaves them out of its codes.
    """
    spark = events.sparkSession
    codes = spark.createDataFrame(
        pd.DataFrame({Columns.ITEM: items.astype(str), CODE: np.arange(len(items), dtype=np.int64)})
    )
    baskets = (
        events.select(Columns.USER, Columns.ITEM)
        .distinct()
        .join(sf.broadcast(codes), Columns.ITEM)
        .select(Columns.USER, CODE)
        .cache()
    )
    per_item = baskets.groupBy(CODE).count().toPandas()
    customers = np.zeros(len(items), np.float64)
    customers[per_item[CODE].to_numpy()] = per_item[COUNT].to_numpy()
    shipped = spark.sparkContext.broadcast(customers)
    first, second = baskets.alias("first"), baskets.alias("second")
    counts = (
        first.join(second, Columns.USER)
        .where(sf.col(f"first.{CODE}") != sf.col(f"second.{CODE}"))
        .groupBy(sf.col(f"first.{CODE}").alias(TARGET), sf.col(f"second.{CODE}").alias(CODE))
        .count()
    )
    try:
        top = (
            counts.repartition(partitions, TARGET)
            .sortWithinPartitions(TARGET)
            .mapInPandas(lambda batches: _top(batches, shipped, k), SCHEMA)
            .toPandas()
        )
    finally:
        shipped.destroy()
        baskets.unpersist()
    return neighbour_matrix(top[TARGET], top[CODE], top[Columns.SCORE], len(items))
