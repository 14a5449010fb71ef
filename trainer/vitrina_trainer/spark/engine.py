"""`vitrina-trainer run --engine spark`: the daily job with Spark reading, counting and scoring.

The steps and the published version are the default engine's (`pipeline.run`): load → fit →
score → publish, the previous version serving until the new one is activated. What differs is
where each step runs (see the package's docstring); there is no EDA report on this engine.
"""

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import SparkSession

from vitrina_shared.catalog import read_items
from vitrina_shared.model_store import VersionWriter
from vitrina_trainer.pipeline import RunResult, model_meta, publishing_run
from vitrina_trainer.publish import publish_version
from vitrina_trainer.recommender import RecommenderConfig
from vitrina_trainer.settings import TrainerSettings
from vitrina_trainer.spark.fit import fit_on_driver, item_state_on_spark
from vitrina_trainer.spark.reader import read_events
from vitrina_trainer.spark.scoring import CHUNK_EVENTS, Target, score_on_executors
from vitrina_trainer.stages import StageLog

log = logging.getLogger(__name__)

EVENTS_PER_PARTITION = 2_000_000


def partitions_for(spark: SparkSession, events: int, wanted: int = 0) -> int:
    """`wanted`, else about one partition per 2 M events and at least two per core."""
    if wanted > 0:
        return wanted
    return max(2 * spark.sparkContext.defaultParallelism, -(-events // EVENTS_PER_PARTITION))


def run(
    settings: TrainerSettings,
    spark: SparkSession,
    events: Sequence[str],
    items: Path | None = None,
    config: RecommenderConfig | None = None,
    stages: StageLog | None = None,
    chunk_events: int = CHUNK_EVENTS,
) -> RunResult:
    """Train on everything and publish a new version; the previous one serves until then."""
    stages = stages or StageLog()
    with publishing_run(settings, stages, executors_write=True) as (store, writer, keeper):
        with stages.stage("load"):
            loaded = read_events(spark, [str(path) for path in events])
            data = loaded.summary
            catalog = read_items(items) if items else None
            partitions = partitions_for(spark, data.events, settings.spark_partitions)
            log.info(
                "%d events of %d users and %d products, %s … %s, in %d partitions",
                data.events, data.users, data.items, data.first, data.last, partitions,
            )  # fmt: skip
        with stages.stage("fit"):
            config = config or RecommenderConfig(threads=settings.threads)
            model, sampled = fit_on_driver(
                loaded.frame, data.users, config, catalog, settings.spark_fit_customers
            )
            if sampled:
                started = time.perf_counter()
                item_state_on_spark(loaded.frame, model, data.users, partitions)
                log.info("product state over all events in %.1f s", time.perf_counter() - started)
            similar = model.similar_items(settings.similar_k)
            popular = model.popular(settings.fallback_k)
        meta = model_meta(settings, data, model, stages)
        shards = []

        def write_users(writer: VersionWriter) -> int:
            target = Target(
                redis_url=settings.redis_url,
                prefix=settings.redis_prefix,
                cluster=settings.redis_cluster,
                timeout=settings.redis_timeout_s,
                version=writer.version,
                top_k=settings.top_k,
            )
            shards.extend(score_on_executors(loaded.frame, model, target, partitions, chunk_events))
            return sum(shard.users for shard in shards)

        # the executors' writes take long and are not the driver's: the keeper renews the
        # lock until the version is activated
        with stages.stage("recommend and publish"):
            published = publish_version(
                store,
                write_users,
                similar,
                popular,
                meta,
                keep=settings.versions_kept,
                writers_elsewhere=True,
                writer=writer,
            )
        keeper.stop()
        loaded.frame.unpersist()
    for shard in shards:
        log.info(
            "partition %d: %d users, %d events in %.1f s, worker peak %.0f MB",
            shard.partition, shard.users, shard.events, shard.seconds, shard.peak_rss_mb,
        )  # fmt: skip
    log.info(
        "run done in %.1f s: version %s is active (%d partitions, executors' peak %.0f MB)",
        stages.total_seconds,
        published.version,
        len(shards),
        max((shard.peak_rss_mb for shard in shards), default=0.0),
    )
    return RunResult(published, data, stages, shards)
