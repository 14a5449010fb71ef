"""The executors' part: score every customer, partition by partition, and publish the lists.

Events are partitioned by customer and sorted by customer within a partition, so a partition is
read as a stream of whole customers: every `chunk_events` events, the complete customers so far
are scored by the default engine's own code (`for_customers` → `recommend`) with the broadcast
model and written into the staged version. An executor's memory is the model plus one chunk,
whatever the number of customers.
"""

import logging
import pickle
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from pyspark import Broadcast, TaskContext
from pyspark.sql import DataFrame

from vitrina_shared.model_store import ModelStore, VersionWriter
from vitrina_shared.schema import Columns
from vitrina_trainer.publish import bought_items, rankings
from vitrina_trainer.recommender import TwoStageRecommender
from vitrina_trainer.spark.reader import ROW

log = logging.getLogger(__name__)

CHUNK_EVENTS = 200_000
RESULT_SCHEMA = "partition int, users long, events long, seconds double, peak_rss_mb double"


@dataclass(frozen=True)
class Target:
    """Where the executors publish: the store's address and the version being written."""

    redis_url: str
    prefix: str
    cluster: bool
    timeout: float
    version: str
    top_k: int


@dataclass(frozen=True)
class ShardResult:
    """What one partition did; the bench reads its executors' memory from these."""

    partition: int
    users: int
    events: int
    seconds: float
    peak_rss_mb: float


def publish_chunk(
    model: TwoStageRecommender, events: pd.DataFrame, writer: VersionWriter, k: int
) -> int:
    """Score the customers of `events` (all of each one's events) and write their lists."""
    events = events.sort_values([Columns.DATETIME, ROW], kind="stable", ignore_index=True)
    users = pd.unique(events[Columns.USER])
    lists = model.for_customers(events).recommend_lists(users, k)
    return writer.write_users(
        rankings(lists.repeat, Columns.USER, Columns.ITEM, bought_items(events), lists.discovery)
    )


def whole_groups(batches: Iterator[pd.DataFrame], column: str, size: int) -> Iterator[pd.DataFrame]:
    """Batches sorted by `column`, regrouped into chunks of about `size` rows.

    A chunk holds every row of its values of `column` (the last value of a chunk waits for the
    next batch): whole customers to score, whole products to rank neighbours of.
    """
    pending: list[pd.DataFrame] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += len(batch)
        if rows < size:
            continue
        frame = pd.concat(pending, ignore_index=True)
        last = frame[column].iloc[-1]
        done = (frame[column] != last).to_numpy()
        if done.any():
            yield frame[done]
        pending, rows = [frame[~done]], int((~done).sum())
    if rows:
        yield pd.concat(pending, ignore_index=True)


def _score_partition(
    batches: Iterator[pd.DataFrame], shipped: Broadcast, target: Target, chunk_events: int
) -> Iterator[pd.DataFrame]:
    started = time.perf_counter()
    model: TwoStageRecommender = shipped.value
    users = events = 0
    with ModelStore.from_url(target.redis_url, target.prefix, target.timeout, target.cluster) as s:
        writer = s.writer(target.version)
        for chunk in whole_groups(batches, Columns.USER, chunk_events):
            users += publish_chunk(model, chunk, writer, target.top_k)
            events += len(chunk)
    yield pd.DataFrame(
        [
            ShardResult(
                partition=TaskContext.get().partitionId(),
                users=users,
                events=events,
                seconds=time.perf_counter() - started,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            ).__dict__
        ]
    )


def score_on_executors(
    events: DataFrame,
    model: TwoStageRecommender,
    target: Target,
    partitions: int,
    chunk_events: int = CHUNK_EVENTS,
) -> list[ShardResult]:
    """Every customer scored and published by the executors.

    Raises if any partition failed (after Spark's own retries: a retried partition rewrites the
    same lists).
    """
    spark = events.sparkSession
    small = model.without_events(threads=1)
    log.info("broadcast model: %.1f MB", len(pickle.dumps(small, protocol=5)) / 2**20)
    shipped = spark.sparkContext.broadcast(small)
    try:
        results = (
            events.repartition(partitions, Columns.USER)
            .sortWithinPartitions(Columns.USER)
            .mapInPandas(
                lambda batches: _score_partition(batches, shipped, target, chunk_events),
                RESULT_SCHEMA,
            )
            .collect()
        )
    finally:
        shipped.destroy()
    return [ShardResult(**row.asDict()) for row in results]
