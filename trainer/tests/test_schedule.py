from datetime import UTC, datetime, time, timedelta

import pytest

from vitrina_shared.model_store import ModelStore
from vitrina_trainer.cli import main
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.schedule import ScheduleState, health, next_run_at, retry_delay, run_schedule
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


@pytest.fixture
def settings(redis_url, tmp_path) -> TrainerSettings:
    return TrainerSettings(REDIS_URL=redis_url, TRAIN_AT="03:00", DATA_DIR=tmp_path)


def test_trains_at_start_without_a_model_then_daily(redis_url, settings):
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


def test_no_run_at_start_when_a_model_is_published(redis_url, settings):
    publish_something(redis_url)
    clock = FakeClock(datetime(2023, 8, 1, 2, 0, tzinfo=UTC))
    trained_at: list[datetime] = []
    run_schedule(
        settings, lambda: trained_at.append(clock.now()), now=clock.now, sleep=clock.sleep, runs=1
    )
    assert trained_at == [datetime(2023, 8, 1, 3, 0, tzinfo=UTC)]


def test_a_failed_run_does_not_stop_the_schedule(redis_url, settings, caplog):
    publish_something(redis_url)
    clock = FakeClock(datetime(2023, 8, 1, 2, 0, tzinfo=UTC))
    attempts: list[datetime] = []

    def failing_train():
        attempts.append(clock.now())
        raise TrainerError("no events")

    run_schedule(settings, failing_train, now=clock.now, sleep=clock.sleep, runs=2)
    # the daily run, then its retry a minute later, not the next day
    assert attempts == [
        datetime(2023, 8, 1, 3, 0, tzinfo=UTC),
        datetime(2023, 8, 1, 3, 1, tzinfo=UTC),
    ]
    assert "previous version keeps serving: no events" in caplog.text


def test_a_failed_first_run_is_retried_with_backoff_until_it_succeeds(redis_url, settings):
    """A fresh stack: the first runs fail while another service is still starting."""
    start = datetime(2023, 8, 1, 22, 0, tzinfo=UTC)
    clock = FakeClock(start)
    attempts: list[datetime] = []
    states: list[str | None] = []

    def train():
        attempts.append(clock.now())
        states.append(ScheduleState.load(settings.schedule_state_path).state)
        if len(attempts) <= 3:
            raise TrainerError("shop database: connection refused")
        publish_something(redis_url)

    run_schedule(settings, train, now=clock.now, sleep=clock.sleep, runs=4)
    minutes = [(at - start).total_seconds() / 60 for at in attempts]
    assert minutes == [0, 1, 3, 7, 5 * 60]  # +1, +2, +4 min, then the next 03:00
    assert states == ["training"] * 5


def test_redis_down_at_start_is_a_failed_run_retried_soon(tmp_path):
    settings = TrainerSettings(REDIS_URL="redis://127.0.0.1:1/0", DATA_DIR=tmp_path)
    start = datetime(2023, 8, 1, 22, 0, tzinfo=UTC)
    clock = FakeClock(start)
    attempts: list[datetime] = []

    def train():
        attempts.append(clock.now())
        raise TrainerError("Redis at redis://127.0.0.1:1/0 does not answer")

    run_schedule(settings, train, now=clock.now, sleep=clock.sleep, runs=1)
    assert attempts == [start, start + timedelta(minutes=1)]


def test_retry_delay_doubles_up_to_an_hour():
    assert [retry_delay(60, n) for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_a_retry_never_postpones_the_daily_run(redis_url, settings):
    settings = settings.model_copy(update={"retry_s": 3 * 3600})
    clock = FakeClock(datetime(2023, 8, 1, 2, 30, tzinfo=UTC))
    attempts: list[datetime] = []

    def failing_train():
        attempts.append(clock.now())
        raise TrainerError("no events")

    run_schedule(settings, failing_train, now=clock.now, sleep=clock.sleep, runs=3)
    assert attempts == [
        datetime(2023, 8, 1, 2, 30, tzinfo=UTC),  # at start: nothing published
        datetime(2023, 8, 1, 3, 0, tzinfo=UTC),  # the daily run comes before the retry
        datetime(2023, 8, 1, 4, 0, tzinfo=UTC),  # retries wait at most an hour
        datetime(2023, 8, 1, 5, 0, tzinfo=UTC),
    ]
    state = ScheduleState.load(settings.schedule_state_path)
    assert (state.state, state.last_error) == ("failed", "no events")
    assert state.next_run_at == datetime(2023, 8, 1, 6, 0, tzinfo=UTC).isoformat()


def state(name: str, error: str | None = None) -> ScheduleState:
    return ScheduleState(name, "2023-08-01T22:00:00+00:00", "2023-08-01T22:01:00+00:00", error)


@pytest.mark.parametrize(
    ("active", "state_", "healthy", "says"),
    [
        ("v1", None, True, "serving version v1"),
        ("v1", state("failed", "boom"), True, "serving version v1; the last run failed: boom"),
        (None, state("training"), True, "no model yet: a training run is under way since 2023"),
        (None, state("failed", "boom"), False, "the last run failed: boom; next attempt at 2023"),
        (None, state("waiting"), False, "no model served and no training run under way"),
        (None, None, False, "no model served and no training run under way"),
    ],
)
def test_health(active, state_, healthy, says):
    ok, message = health(active, state_)
    assert ok is healthy
    assert says in message


def test_health_command(redis_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["health"]) == 1
    assert capsys.readouterr().out.startswith("unhealthy: no model served")
    state("training").save(tmp_path / "trainer-schedule.json")
    assert main(["health"]) == 0
    assert "a training run is under way" in capsys.readouterr().out
    publish_something(redis_url)
    assert main(["health"]) == 0
    assert capsys.readouterr().out.startswith("healthy: serving version")


def test_health_command_without_redis(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["health"]) == 1
    assert "error" in capsys.readouterr().err
