"""The daily job, step by step as the design doc has it: load → EDA → fit → score → publish.

Redis is checked before the expensive steps, so a run with nowhere to publish fails in seconds.
"""

import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import redis

from vitrina_shared.catalog import read_items
from vitrina_shared.events import EventLog, merge_event_logs, read_events
from vitrina_shared.model_store import ModelStore, PublishError, VersionWriter
from vitrina_shared.schema import Columns
from vitrina_trainer.eda import write_eda
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.evaluation import TWO_STAGE
from vitrina_trainer.interactions import text_codes
from vitrina_trainer.publish import (
    LockKeeper,
    Published,
    bought_items,
    connect_store,
    publish,
)
from vitrina_trainer.recommender import RecommenderConfig, TwoStageRecommender
from vitrina_trainer.settings import TrainerSettings, hide_password
from vitrina_trainer.shop_db import read_shop_events
from vitrina_trainer.stages import StageLog

log = logging.getLogger(__name__)

IMPORTANCES_KEPT = 20


@dataclass
class RunResult:
    published: Published
    data: dict[str, Any]
    stages: StageLog = field(default_factory=StageLog)


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


def data_summary(event_log: EventLog) -> dict[str, Any]:
    events = event_log.events
    return {
        "from": events[Columns.DATETIME].min().isoformat(),
        "to": events[Columns.DATETIME].max().isoformat(),
        "events": len(events),
        "users": int(events[Columns.USER].nunique()),
        "items": int(events[Columns.ITEM].nunique()),
        "rows_read": event_log.rows_read,
        "rows_skipped": event_log.rows_skipped,
        "sources": [hide_password(s) for s in event_log.sources],
    }


def last_evaluation(path: Path) -> dict[str, Any]:
    """The two-stage model's metrics from the last `evaluate` report, when there is one."""
    if not path.is_file():
        return {}
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        rows = {r["bought"]: r for r in report["metrics"] if r["model"] == TWO_STAGE}
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable evaluation report %s: %s", path, exc)
        return {}
    metrics: dict[str, Any] = {
        name: value
        for name, value in rows.get("allowed", {}).items()
        if name not in ("model", "bought")
    }
    if "excluded" in rows:
        metrics["bought_excluded"] = {
            name: value
            for name, value in rows["excluded"].items()
            if name not in ("model", "bought")
        }
    metrics["evaluated"] = {
        "report": str(path),
        "at": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
        "cut": report.get("protocol", {}).get("cut"),
    }
    return metrics


def connect_for_run(settings: TrainerSettings) -> tuple[ModelStore, VersionWriter]:
    """The model store, with the publishing lock taken before any training: a second run
    started meanwhile fails in seconds (one line naming the holder), not after training."""
    store = connect_store(settings)
    try:
        return store, store.begin()
    except PublishError as exc:
        store.client.close()
        raise TrainerError(str(exc)) from exc


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
    with stages.stage("connect"):
        store, writer = connect_for_run(settings)
    keeper = LockKeeper(writer)
    try:
        with stages.stage("load"):
            event_log = load_events(events, shop_db_url)
            catalog = read_items(items) if items else None
            data = data_summary(event_log)
            log.info(
                "%d events of %d users and %d products, %s … %s",
                data["events"], data["users"], data["items"], data["from"], data["to"],
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
            recommendations = model.recommend(users, settings.top_k)
            similar = model.similar_items(settings.similar_k)
            popular = model.popular(settings.fallback_k)
            bought = bought_items(event_log.events)
        meta = {
            "trained_at": datetime.now(UTC).isoformat(),
            "top_k": settings.top_k,
            "similar_k": settings.similar_k,
            "data": data,
            "metrics": last_evaluation(settings.evaluation_json),
            "config": model.config.model_dump(mode="json"),
            "feature_importance": model.feature_importance()
            .head(IMPORTANCES_KEPT)
            .round(6)
            .to_dict(),
            "stages": stages.as_dicts(),
        }
        keeper.stop()  # from here on, publishing renews the lock with every batch it writes
        with stages.stage("publish"):
            published = publish(
                store,
                recommendations,
                similar,
                popular,
                meta,
                bought=bought,
                keep=settings.versions_kept,
                writer=writer,
            )
    except BaseException:
        keeper.stop()
        with contextlib.suppress(redis.RedisError):
            store.abort(writer)  # a failure before publishing: drop the lock for the next run
        raise
    finally:
        store.client.close()
    log.info("run done in %.1f s: version %s is active", stages.total_seconds, published.version)
    return RunResult(published, data, stages)
