from datetime import UTC, datetime, time, timedelta

import pytest

from vitrina_shared.model_store import ModelStore
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.schedule import next_run_at, run_schedule
from vitrina_trainer.settings import TrainerSettings


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2023, 8, 1, 1, 0, tzinfo=UTC), datetime(2023, 8, 1, 3, 0, tzinfo=UTC)),
        (datetime(2023, 8, 1, 3, 0, tzinfo=UTC), datetime(2023, 8, 2, 3, 0, tzinfo=UTC)),
        (datetime(2023, 8, 1, 23, 59, tzinfo=UTC), datetime(2023, 8, 2, 3, 0, tzinfo=UTC)),
    ],
)
def test_next_run_at(now, expected):
    assert next_run_at(now, time(3, 0)) == expected


class FakeClock:
    """Time that moves only when the scheduler sleeps."""

    def __init__(self, start: datetime):
        self.current = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


def publish_something(redis_url: str) -> None:
    store = ModelStore.from_url(redis_url)
    writer = store.begin()
    writer.write_meta({})
    store.activate(writer.version)
    store.client.close()


def test_trains_at_start_without_a_model_then_daily(redis_url):
    settings = TrainerSettings(REDIS_URL=redis_url, TRAIN_AT="03:00")
    clock = FakeClock(datetime(2023, 8, 1, 22, 0, tzinfo=UTC))
    trained_at: list[datetime] = []

    def train():
        trained_at.append(clock.now())
        publish_something(redis_url)

    run_schedule(settings, train, now=clock.now, sleep=clock.sleep, runs=2)
    assert trained_at == [
        datetime(2023, 8, 1, 22, 0, tzinfo=UTC),  # at start: nothing was published
        datetime(2023, 8, 2, 3, 0, tzinfo=UTC),
        datetime(2023, 8, 3, 3, 0, tzinfo=UTC),
    ]
    assert max(clock.slept) <= 3600


def test_no_run_at_start_when_a_model_is_published(redis_url):
    publish_something(redis_url)
    settings = TrainerSettings(REDIS_URL=redis_url, TRAIN_AT="03:00")
    clock = FakeClock(datetime(2023, 8, 1, 2, 0, tzinfo=UTC))
    trained_at: list[datetime] = []
    run_schedule(
        settings, lambda: trained_at.append(clock.now()), now=clock.now, sleep=clock.sleep, runs=1
    )
    assert trained_at == [datetime(2023, 8, 1, 3, 0, tzinfo=UTC)]


def test_a_failed_run_does_not_stop_the_schedule(redis_url, caplog):
    publish_something(redis_url)
    settings = TrainerSettings(REDIS_URL=redis_url, TRAIN_AT="03:00")
    clock = FakeClock(datetime(2023, 8, 1, 2, 0, tzinfo=UTC))
    attempts: list[datetime] = []

    def failing_train():
        attempts.append(clock.now())
        raise TrainerError("no events")

    run_schedule(settings, failing_train, now=clock.now, sleep=clock.sleep, runs=2)
    assert len(attempts) == 2
    assert "previous version keeps serving: no events" in caplog.text
