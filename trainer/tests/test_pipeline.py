import pandas as pd
import pytest

from vitrina_shared.events import EventLog, clean_events
from vitrina_shared.model_store import ModelStore, PublishError, StoreUnreachableError
from vitrina_trainer.errors import EXPECTED_ERRORS, TrainerError
from vitrina_trainer.pipeline import connect_for_run, load_events
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
        PublishError, match="another run is publishing version 20240101T000000Z-abcdef"
    ):
        connect_for_run(TrainerSettings(REDIS_URL=redis_url))


def test_connect_for_run_gives_a_working_store(redis_url):
    with connect_for_run(TrainerSettings(REDIS_URL=redis_url)) as store:
        assert isinstance(store, ModelStore) and store.active_version() is None
