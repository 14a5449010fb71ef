import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from vitrina_shared.events import EventLog, clean_events
from vitrina_shared.model_store import LOCK_SECONDS, ModelStore, StoreUnreachableError
from vitrina_trainer import pipeline
from vitrina_trainer.errors import EXPECTED_ERRORS, TrainerError
from vitrina_trainer.pipeline import connect_for_run, load_events
from vitrina_trainer.publish import LockKeeper
from vitrina_trainer.settings import TrainerSettings

COLUMNS = ["utc_event_time", "user_id", "event_type", "ecom.price100", "ecom.qty", "ecom.nm"]


def log_of(rows, source):
    return clean_events(pd.DataFrame(rows, columns=COLUMNS), source=source)


def test_nothing_to_load_is_a_clear_error():
    with pytest.raises(TrainerError, match="no events to train on"):
        load_events([])


def test_an_empty_shop_log_alone_is_a_clear_error(tmp_path, monkeypatch):
    empty = EventLog(log_of([], "shop").events, sources=["shop"])
    monkeypatch.setattr("vitrina_trainer.pipeline.read_shop_events", lambda url: empty)
    with pytest.raises(TrainerError, match="no valid events in shop"):
        load_events([], shop_db_url="sqlite://")


def test_redis_unreachable_is_a_clear_error():
    settings = TrainerSettings(REDIS_URL="redis://:pw@127.0.0.1:1/0", TRAINER_REDIS_TIMEOUT_S=1)
    with pytest.raises(
        StoreUnreachableError, match=r"Redis at redis://:\*\*\*@127.0.0.1:1/0 is unreachable"
    ) as caught:
        connect_for_run(settings)
    assert isinstance(caught.value, EXPECTED_ERRORS)


def test_a_run_in_progress_blocks_another(redis_url, redis_client):
    redis_client.set("vitrina:lock", "20240101T000000Z-abcdef")
    with pytest.raises(
        TrainerError, match="another run is publishing version 20240101T000000Z-abcdef"
    ):
        connect_for_run(TrainerSettings(REDIS_URL=redis_url))


def test_connect_for_run_takes_the_lock_first(redis_url, redis_client):
    store, writer = connect_for_run(TrainerSettings(REDIS_URL=redis_url))
    assert isinstance(store, ModelStore) and store.active_version() is None
    assert redis_client.get("vitrina:lock").decode() == writer.version
    assert 0 < redis_client.ttl("vitrina:lock") <= LOCK_SECONDS


def tiny_events(tmp_path):
    path = tmp_path / "events.csv"
    rows = [
        f"2024-01-0{day} 10:00:00+00:00,u{user},purchase,100,1,i{(user + day) % 5}"
        for day in range(1, 6)
        for user in range(20)
    ]
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n")
    return path


def test_a_second_run_fails_at_once_while_the_first_trains(
    redis_url, redis_client, tmp_path, monkeypatch
):
    """Two runs started together.

    The second fails before loading anything (it used to train for minutes and fail only at
    publish); the first, failing later, releases the lock.
    """
    training, release = threading.Event(), threading.Event()
    loads = []

    class SlowModel:
        def __init__(self, config):
            pass

        def fit(self, events, catalog):
            training.set()
            release.wait(60)
            raise RuntimeError("stopped by the test")

    monkeypatch.setattr("vitrina_trainer.pipeline.TwoStageRecommender", SlowModel)
    real_load = pipeline.load_events
    monkeypatch.setattr(pipeline, "load_events", lambda *a: loads.append(a) or real_load(*a))
    settings = TrainerSettings(REDIS_URL=redis_url, DATA_DIR=str(tmp_path))
    events = [tiny_events(tmp_path)]
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(pipeline.run, settings, events)
        try:
            assert training.wait(60), first.exception(0)
            holder = redis_client.get("vitrina:lock")
            assert holder is not None, "the first run trains without holding the lock"
            with pytest.raises(
                TrainerError, match=f"another run is publishing version {holder.decode()}"
            ):
                pipeline.run(settings, events)
            assert len(loads) == 1  # the second run never read its input
        finally:
            release.set()
        with pytest.raises(RuntimeError, match="stopped by the test"):
            first.result(60)
    assert not redis_client.exists("vitrina:lock")
    assert redis_client.smembers("vitrina:building") == set()


def test_the_lock_is_renewed_while_a_run_trains(redis_url, redis_client):
    store, writer = connect_for_run(TrainerSettings(REDIS_URL=redis_url))
    redis_client.expire("vitrina:lock", 2)
    keeper = LockKeeper(writer, every=0.05)
    try:
        deadline = time.monotonic() + 10
        while redis_client.ttl("vitrina:lock") <= 2:
            assert time.monotonic() < deadline, "the lock was never renewed"
            time.sleep(0.05)
    finally:
        keeper.stop()
    assert redis_client.get("vitrina:lock").decode() == writer.version
    store.close()
