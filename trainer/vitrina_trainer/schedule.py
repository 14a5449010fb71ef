"""`vitrina-trainer schedule`: the compose trainer's loop, and what its healthcheck reads.

It trains at once when no model is published (a fresh stack serves within minutes), then every
day at `TRAIN_AT` (UTC). A failed run is logged, the previous version keeps serving, and the run
is retried soon — after `TRAINER_RETRY_S`, doubled after each further failure up to an hour — not
a day later: on a fresh stack the first run may fail only because another service is still
starting. The loop records where it stands in a small JSON file, so `vitrina-trainer health`
can tell "the first run is under way" from "it failed".
"""

import json
import logging
import time as clock
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from vitrina_shared.model_store import ModelStore
from vitrina_trainer.errors import EXPECTED_ERRORS
from vitrina_trainer.settings import TrainerSettings

log = logging.getLogger(__name__)
MAX_RETRY_S = 3600.0


@dataclass
class ScheduleState:
    """Where the loop stands: `training`, `waiting` (for the next run) or `failed` (will retry)."""

    state: str
    since: str
    next_run_at: str | None = None
    last_error: str | None = None

    def save(self, path: Path) -> None:
        """Written aside and renamed: the healthcheck never reads half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(self)))
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> "ScheduleState | None":
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def next_run_at(now: datetime, at: time) -> datetime:
    """The first moment at `at` o'clock strictly after `now`."""
    today = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def retry_delay(first: float, failures: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row: doubling, at most an hour."""
    return min(first * 2 ** (failures - 1), MAX_RETRY_S)


def model_published(settings: TrainerSettings) -> bool:
    with ModelStore.connect(settings, settings.redis_timeout_s) as store:
        return store.active_version() is not None


def train_safely(train: Callable[[], object]) -> str | None:
    """One run; an expected failure is logged and returned as its message, never fatal."""
    try:
        train()
    except EXPECTED_ERRORS as exc:
        log.error("training run failed, the previous version keeps serving: %s", exc)
        return str(exc) or type(exc).__name__
    return None


def run_schedule(
    settings: TrainerSettings,
    train: Callable[[], object],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = clock.sleep,
    runs: int | None = None,
) -> None:
    """Train now if nothing is published, then daily, retrying failures.

    `runs` bounds the runs that were waited for (tests).
    """
    path = settings.schedule_state_path

    def record(state: str, due: datetime | None = None, error: str | None = None) -> None:
        when = due.isoformat() if due else None
        ScheduleState(state, now().isoformat(), when, error).save(path)

    failures, error, done = 0, None, 0
    try:
        published = model_published(settings)
    except EXPECTED_ERRORS as exc:  # Redis not up yet: the run fails too, and is retried soon
        log.error("cannot tell whether a model is published: %s", exc)
        published = False
    due = next_run_at(now(), settings.train_at) if published else None
    if due is None:
        log.info("no model published yet: training now")
    else:
        record("waiting", due)
    while True:
        if due is not None:
            if runs is not None and done >= runs:
                return
            log.info("next training run at %s", due.isoformat())
            # wake hourly: a changed clock or a suspended host catches up
            while (left := (due - now()).total_seconds()) > 0:
                sleep(min(left, 3600))
            done += 1
        record("training", error=error)
        error = train_safely(train)
        failures = failures + 1 if error else 0
        due = next_run_at(now(), settings.train_at)
        if error:
            due = min(due, now() + timedelta(seconds=retry_delay(settings.retry_s, failures)))
        record("failed" if error else "waiting", due, error)


def health(active_version: str | None, state: ScheduleState | None) -> tuple[bool, str]:
    """Healthy when a model is served, or, before the first model, while a run is under way."""
    failed = state is not None and state.state == "failed"
    retry = f"{state.last_error}; next attempt at {state.next_run_at}" if failed else ""
    if active_version is not None:
        note = f"; the last run failed: {retry}" if failed else ""
        return True, f"serving version {active_version}{note}"
    if state is not None and state.state == "training":
        return True, f"no model yet: a training run is under way since {state.since}"
    if failed:
        return False, f"no model served: the last run failed: {retry}"
    return False, "no model served and no training run under way"
