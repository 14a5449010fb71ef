"""`vitrina-trainer schedule`: the compose trainer's loop.

It trains at once when no model is published (a fresh stack serves within minutes), then every
day at `TRAIN_AT` (UTC). A failed run is logged and the previous version keeps serving; the next
day's run tries again.
"""

import logging
import time as clock
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from vitrina_shared.model_store import ModelStore
from vitrina_trainer.errors import EXPECTED_ERRORS
from vitrina_trainer.settings import TrainerSettings

log = logging.getLogger(__name__)


def next_run_at(now: datetime, at: time) -> datetime:
    """The first moment at `at` o'clock strictly after `now`."""
    today = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def model_published(settings: TrainerSettings) -> bool:
    with ModelStore.connect(settings, settings.redis_timeout_s) as store:
        return store.active_version() is not None


def train_safely(train: Callable[[], object]) -> None:
    """One run; an expected failure is logged, never fatal to the loop."""
    try:
        train()
    except EXPECTED_ERRORS as exc:
        log.error("training run failed, the previous version keeps serving: %s", exc)


def run_schedule(
    settings: TrainerSettings,
    train: Callable[[], object],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = clock.sleep,
    runs: int | None = None,
) -> None:
    """Train now if nothing is published, then daily; `runs` bounds the daily runs (tests)."""
    if not model_published(settings):
        log.info("no model published yet: training now")
        train_safely(train)
    done = 0
    while runs is None or done < runs:
        due = next_run_at(now(), settings.train_at)
        log.info("next training run at %s", due.isoformat())
        while (left := (due - now()).total_seconds()) > 0:
            sleep(min(left, 3600))  # wake hourly: a changed clock or a suspended host catches up
        train_safely(train)
        done += 1
