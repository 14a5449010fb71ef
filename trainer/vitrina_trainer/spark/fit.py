"""The driver's part: fit the model on a sample of customers; product-side state on Spark.

The model is fitted on the driver, on every event of up to `max_customers` customers picked by
a hash of their id (all of them when there are fewer): LightGBM's ranker, implicit's ALS and
LightFM are fitted there, as in the default engine. When it was a sample, popularity, the
product statistics the ranker reads and the co-occurrence neighbours are then recomputed over
all events on Spark — partitions by product through the same `PopularSource` and
`FeatureBuilder` code, the neighbours by `neighbours_on_spark` — and replace the sample's.
"""

import logging
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from vitrina_shared.events import event_frame
from vitrina_shared.schema import Columns
from vitrina_trainer.candidates import PopularSource
from vitrina_trainer.features import FeatureBuilder
from vitrina_trainer.interactions import InputError, Interactions
from vitrina_trainer.recommender import RecommenderConfig, TwoStageRecommender
from vitrina_trainer.spark.neighbours import neighbours_on_spark
from vitrina_trainer.spark.reader import ROW

log = logging.getLogger(__name__)

HASH_BUCKETS = 1_000_000
POPULAR_COLUMN = "popular"


def sample_customers(events: DataFrame, users: int, max_customers: int, seed: int) -> DataFrame:
    """Every event of about `max_customers` customers, chosen by a hash of their id."""
    if users <= max_customers:
        return events
    bucket = sf.abs(sf.xxhash64(sf.col(Columns.USER), sf.lit(seed)) % HASH_BUCKETS)
    return events.where(bucket < int(HASH_BUCKETS * max_customers / users))


def fit_on_driver(
    events: DataFrame,
    users: int,
    config: RecommenderConfig,
    catalog: pd.DataFrame | None,
    max_customers: int,
) -> tuple[TwoStageRecommender, bool]:
    """The fitted model, and whether it saw only a sample of the customers."""
    sample = sample_customers(events, users, max_customers, config.seed)
    sampled = sample is not events
    table = sample.orderBy(ROW).drop(ROW).toArrow()
    frame = event_frame(table)
    log.info(
        "fitting on the driver: %d events of %d customers",
        len(frame),
        frame[Columns.USER].nunique(),
    )
    del table
    return TwoStageRecommender(config).fit(frame, catalog), sampled


def _item_state(
    batches: Iterator[pd.DataFrame], model: TwoStageRecommender, names: list[str]
) -> Iterator[pd.DataFrame]:
    """MapInPandas over events partitioned by product.

    Each product's popularity and statistics, by the default engine's own code on that product's
    events.
    """
    frame = pd.concat(list(batches), ignore_index=True)
    if frame.empty:
        return
    fitted = model.diagnostics().data
    try:
        data = Interactions.from_events(frame, model.config.event_weights, fitted.items)
    except InputError:  # only products the sample never saw: the model cannot recommend them
        return
    data = replace(data, now=fitted.now)
    popular = PopularSource(model.config.popular.half_life_days).fit(data)
    features = FeatureBuilder(model.config.history.half_life_days).fit(data)
    items = np.unique(data.item)
    out = {Columns.ITEM: items.astype(np.int64), POPULAR_COLUMN: popular.item_scores[items]}
    out.update({name: features.item[name][items].astype(np.float64) for name in names})
    yield pd.DataFrame(out)


def item_state_on_spark(
    events: DataFrame, model: TwoStageRecommender, users: int, partitions: int
) -> None:
    """Replace the model's popularity, product statistics and neighbours by those of all events."""
    names = list(model.features.item)
    schema = ", ".join(
        [f"{Columns.ITEM} long", f"{POPULAR_COLUMN} double", *(f"{n} double" for n in names)]
    )
    shipped = events.sparkSession.sparkContext.broadcast(model.without_events())
    rows = (
        events.drop(ROW)
        .repartition(partitions, Columns.ITEM)
        .mapInPandas(lambda batches: _item_state(batches, shipped.value, names), schema)
        .toPandas()
    )
    shipped.destroy()
    fitted = model.diagnostics().data
    similar = neighbours_on_spark(events, fitted.items, model.config.cooc.neighbours, partitions)
    model.set_product_state(
        rows[Columns.ITEM].to_numpy(),
        rows[POPULAR_COLUMN].to_numpy(),
        {name: rows[name].to_numpy() for name in names},
        users,
        similar,
    )
