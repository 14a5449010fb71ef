"""The daily job, step by step as the design doc has it: load → EDA → fit → score → publish.

Redis is checked before the expensive steps, so a run with nowhere to publish fails in seconds.
"""

import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import redis

from vitrina_shared.catalog import read_items
from vitrina_shared.events import EventLog, merge_event_logs, read_events
from vitrina_shared.model_meta import DataSummary, ModelMeta
from vitrina_shared.model_store import ModelStore, PublishError, VersionWriter
from vitrina_shared.schema import Columns
from vitrina_shared.settings import hide_password
from vitrina_trainer.eda import write_eda
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.evaluation import last_evaluation
from vitrina_trainer.interactions import text_codes
from vitrina_trainer.publish import LockKeeper, Published, bought_items, publish
from vitrina_trainer.recommender import RecommenderConfig, TwoStageRecommender
from vitrina_trainer.settings import TrainerSettings
from vitrina_trainer.shop_db import read_shop_events
from vitrina_trainer.stages import StageLog

log = logging.getLogger(__name__)

IMPORTANCES_KEPT = 20


@dataclass
class RunResult:
    """What a run published; `shards`: what each Spark partition did (the Spark engine's)."""

    published: Published
    data: DataSummary
    stages: StageLog = field(default_factory=StageLog)
    shards: list[Any] = field(default_factory=list)


def load_events(paths: Sequence[Path], shop_db_url: str | None = None) -> EventLog:
    """The CSV/Parquet events and, when given, the shop's event log, cleaned alike."""
    logs = [read_events(list(paths), progress=sys.stderr.isatty())] if paths else []
    if shop_db_url:
        logs.append(read_shop_events(shop_db_url))
    if not logs:
        raise TrainerError("no events to train on: give --events PATH and/or --shop-db URL")
    merged = merge_event_logs(logs)
    # The reader's Arrow buffers are freed but kept by Arrow's allocator (~0.6 GB per 5M events);
    # hand them back so the model's numpy arrays can use that memory.
    pa.default_memory_pool().release_unused()
    if merged.events.empty:
        raise TrainerError(f"no valid events in {', '.join(merged.sources)}")
    return merged


def data_summary(event_log: EventLog) -> DataSummary:
    events = event_log.events
    return DataSummary(
        first=events[Columns.DATETIME].min().isoformat(),
        last=events[Columns.DATETIME].max().isoformat(),
        events=len(events),
        users=int(events[Columns.USER].nunique()),
        items=int(events[Columns.ITEM].nunique()),
        rows_read=event_log.rows_read,
        rows_skipped=event_log.rows_skipped,
        sources=[hide_password(s) for s in event_log.sources],
    )


def model_meta(
    settings: TrainerSettings, data: DataSummary, model: TwoStageRecommender, stages: StageLog
) -> ModelMeta:
    """A version's metadata: what was trained on what, how well (the last evaluation), how long."""
    return ModelMeta(
        trained_at=datetime.now(UTC),
        top_k=settings.top_k,
        similar_k=settings.similar_k,
        data=data,
        metrics=last_evaluation(settings.evaluation_json),
        config=model.config.model_dump(mode="json"),
        feature_importance=model.feature_importance().head(IMPORTANCES_KEPT).round(6).to_dict(),
        stages=stages.as_dicts(),
    )


def connect_for_run(settings: TrainerSettings) -> tuple[ModelStore, VersionWriter]:
    """The model store, with the publishing lock taken before any training.

    A second run started meanwhile fails in seconds (one line naming the holder), not after
    training.
    """
    store = ModelStore.connect(settings, settings.redis_timeout_s)
    try:
        return store, store.begin()
    except PublishError as exc:
        store.close()
        raise TrainerError(str(exc)) from exc
    except BaseException:
        store.close()
        raise


@contextlib.contextmanager
def publishing_run(
    settings: TrainerSettings, stages: StageLog, executors_write: bool = False
) -> Iterator[tuple[ModelStore, VersionWriter, LockKeeper]]:
    """A run's store, its publishing lock taken first and renewed until `keeper.stop()`.

    A failure anywhere in the block drops the lock and the version for the next run; with
    `executors_write` (the Spark engine) the version stays registered, so `prune` also removes
    what a straggling executor wrote after the abort.
    """
    with stages.stage("connect"):
        store, writer = connect_for_run(settings)
    keeper = LockKeeper(writer)
    with store:
        try:
            yield store, writer, keeper
        except BaseException:
            keeper.stop()
            with contextlib.suppress(redis.RedisError):
                store.abort(writer, keep_registered=executors_write)
            raise


def run(
    settings: TrainerSettings,
    events: Sequence[Path],
    items: Path | None = None,
    shop_db_url: str | None = None,
    config: RecommenderConfig | None = None,
    stages: StageLog | None = None,
) -> RunResult:
    """Train on everything and publish a new version; the previous one serves until then."""
    stages = stages or StageLog()
    with publishing_run(settings, stages) as (store, writer, keeper):
        with stages.stage("load"):
            event_log = load_events(events, shop_db_url)
            catalog = read_items(items) if items else None
            data = data_summary(event_log)
            log.info(
                "%d events of %d users and %d products, %s … %s",
                data.events, data.users, data.items, data.first, data.last,
            )  # fmt: skip
        with stages.stage("eda"):
            write_eda(event_log, settings.reports_dir)
        with stages.stage("fit"):
            config = config or RecommenderConfig(threads=settings.threads)
            model = TwoStageRecommender(config).fit(event_log.events, catalog)
        with stages.stage("recommend"):
            # Every customer in order of first event, found on the integer codes: turning each
            # event's id into a Python string first costs seconds per million events.
            codes, names = text_codes(event_log.events[Columns.USER])
            users = names[pd.unique(codes[codes >= 0])]
            lists = model.recommend_lists(users, settings.top_k)
            similar = model.similar_items(settings.similar_k)
            popular = model.popular(settings.fallback_k)
            bought = bought_items(event_log.events)
        meta = model_meta(settings, data, model, stages)
        keeper.stop()  # from here on, publishing renews the lock with every batch it writes
        with stages.stage("publish"):
            published = publish(
                store,
                lists.repeat,
                similar,
                popular,
                meta,
                bought=bought,
                keep=settings.versions_kept,
                writer=writer,
                discovery=lists.discovery,
            )
    log.info("run done in %.1f s: version %s is active", stages.total_seconds, published.version)
    return RunResult(published, data, stages)
