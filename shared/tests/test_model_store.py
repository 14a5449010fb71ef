import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from vitrina_shared.model_store import (
    LOCK_SECONDS,
    ModelStore,
    PublishError,
    StoreUnreachableError,
    new_version_id,
)
from vitrina_shared.redis_layout import POPULAR, decode_ranking, encode_ranking
from vitrina_shared.settings import VitrinaSettings


def publish(store: ModelStore, users: dict[str, list[str]], name: str) -> str:
    writer = store.begin(version=name)
    writer.write_users(
        (user, encode_ranking(items, [1.0] * len(items))) for user, items in users.items()
    )
    writer.write_fallbacks([(POPULAR, encode_ranking(["p"], [1.0]))])
    writer.write_meta({"version": name, "users": len(users)})
    store.activate(name)
    return name


@pytest.fixture
def store(redis_client) -> ModelStore:
    return ModelStore(redis_client, prefix="t")


def test_publish_and_read_back(store, redis_client):
    publish(store, {"u1": ["a", "b"], "u2": ["c"]}, "v1")
    assert store.active_version() == "v1"
    blob = redis_client.hget(store.keys.users("v1"), "u1")
    assert decode_ranking(blob).items == ["a", "b"]
    [info] = store.versions()
    assert (info.version, info.active, info.meta["users"]) == ("v1", True, 2)


def test_writes_are_batched_beyond_one_batch(store, redis_client, monkeypatch):
    monkeypatch.setattr("vitrina_shared.model_store.WRITE_BATCH", 3)
    publish(store, {f"u{i}": ["a"] for i in range(10)}, "v1")
    assert redis_client.hlen(store.keys.users("v1")) == 10


def test_unfinished_version_is_not_served_and_pruned_later(store, redis_client):
    publish(store, {"u1": ["old"]}, "v1")
    writer = store.begin(version="v2")
    writer.write_users([("u1", encode_ranking(["new"], [1.0]))])
    # The run dies here: no meta, no activate, lock still held until it expires.
    assert store.active_version() == "v1"
    with pytest.raises(PublishError, match="another run is publishing version v2"):
        store.begin()
    assert store.unfinished_versions() == ["v2"]
    redis_client.delete(store.keys.lock)  # the dead run's lock expired
    assert store.prune(keep=5) == ["v2"]
    assert store.unfinished_versions() == []
    assert not redis_client.exists(store.keys.users("v2"))
    assert decode_ranking(redis_client.hget(store.keys.users("v1"), "u1")).items == ["old"]


def test_each_batch_renews_the_lock(store, redis_client, monkeypatch):
    monkeypatch.setattr("vitrina_shared.model_store.WRITE_BATCH", 2)
    writer = store.begin(version="v1")
    redis_client.expire(store.keys.lock, 5)
    writer.write_users((f"u{i}", encode_ranking(["a"], [1.0])) for i in range(5))
    assert redis_client.ttl(store.keys.lock) > 60


def test_a_writer_that_lost_its_lock_stops(store, redis_client):
    writer = store.begin(version="v1")
    redis_client.delete(store.keys.lock)  # it expired while the run was stalled
    store.begin(version="v2")  # another run took over
    with pytest.raises(PublishError, match="v1 lost the publishing lock"):
        writer.write_users([("u1", encode_ranking(["a"], [1.0]))])


def test_activate_refuses_a_version_without_meta(store):
    writer = store.begin(version="v1")
    with pytest.raises(PublishError, match="never fully written"):
        store.activate(writer.version)


def test_abort_removes_the_version_and_releases_the_lock(store, redis_client):
    writer = store.begin(version="v1")
    writer.write_meta({})
    store.abort(writer)
    assert redis_client.keys("t:*") == []
    store.begin(version="v2")  # the lock is free again


def test_rollback_and_prune_keep_the_active_version(store, redis_client):
    for name in ("v1", "v2", "v3"):
        publish(store, {"u": [name]}, name)
    assert store.rollback() == "v2"
    assert store.active_version() == "v2"
    assert store.prune(keep=1) == ["v1"]  # v3 is newest and kept; v2 is active and kept
    assert [info.version for info in store.versions()] == ["v3", "v2"]
    with pytest.raises(PublishError, match="no earlier version"):
        store.rollback()  # v1 is gone; v2 was the oldest left


def test_prune_keeps_the_versions_an_experiment_pinned(store, redis_client):
    for name in ("v1", "v2", "v3"):
        publish(store, {"u": [name]}, name)
    redis_client.sadd(store.keys.pinned, "v1")
    assert store.prune(keep=1) == ["v2"]
    assert [info.version for info in store.versions()] == ["v3", "v1"]


def test_rollback_without_an_earlier_version(store):
    publish(store, {"u": ["a"]}, "v1")
    with pytest.raises(PublishError, match="no earlier version"):
        store.rollback()


def test_version_ids_sort_by_time():
    early = new_version_id(datetime(2023, 8, 1, tzinfo=UTC))
    late = new_version_id(datetime(2023, 8, 2, tzinfo=UTC))
    assert early < late and early.startswith("20230801T000000Z-")


def test_connect_uses_the_prefix_and_closes_on_leaving_the_block(redis_url, redis_client):
    def clients() -> int:
        return redis_client.info("clients")["connected_clients"]

    settings = VitrinaSettings(REDIS_URL=redis_url, REDIS_PREFIX="t")
    alone = clients()
    with ModelStore.connect(settings) as store:
        publish(store, {"u1": ["a"]}, "v1")
        assert clients() == alone + 1
    assert redis_client.get("t:active") == b"v1"
    assert clients() == alone


def test_connect_to_nothing_names_the_url_without_its_password():
    settings = VitrinaSettings(REDIS_URL="redis://:pw@127.0.0.1:1/0")
    with pytest.raises(
        StoreUnreachableError, match=r"redis://:\*\*\*@127.0.0.1:1/0 is unreachable"
    ):
        ModelStore.connect(settings, timeout=1)


def test_lock_holder_names_the_run_that_is_publishing(store):
    assert store.lock_holder() is None
    writer = store.begin(version="v7")
    assert store.lock_holder() == "v7"
    with pytest.raises(PublishError, match="another run is publishing version v7"):
        store.begin(version="v8")
    store.abort(writer)
    assert store.lock_holder() is None


def test_activate_checks_the_versions_own_metadata(store, redis_client):
    """A planted bug (checking the wrong key) would activate a version nobody finished."""
    publish(store, {"u": ["a"]}, "v1")
    writer = store.begin(version="v2")
    writer.write_users([("u", encode_ranking(["b"], [1.0]))])
    writer.write_similar([("a", encode_ranking(["b"], [1.0]))])
    writer.write_fallbacks([(POPULAR, encode_ranking(["b"], [1.0]))])
    with pytest.raises(PublishError, match="version v2 has no metadata"):
        store.activate("v2")
    assert store.active_version() == "v1"
    assert [info.version for info in store.versions()] == ["v1"]


def test_activate_is_one_atomic_script(store, redis_client):
    """The pointer, the registry and the building set change in one server-side script.

    On a cluster, too: their keys share a slot. The lock's release is the only other command.
    """
    writer = store.begin(version="v1")
    writer.write_meta({})
    redis_client.config_resetstat()
    store.activate("v1")
    stats = redis_client.info("commandstats")
    assert stats["cmdstat_eval"]["calls"] == 2  # activate, then release our own lock
    assert "cmdstat_multi" not in stats  # (a script's own SET, ZADD… count here too)
    assert store.active_version() == "v1"
    assert redis_client.smembers(store.keys.building) == set()


def test_writes_go_in_batches_and_are_counted(store, redis_client, monkeypatch):
    monkeypatch.setattr("vitrina_shared.model_store.WRITE_BATCH", 2)
    writer = store.begin(version="v1")
    pairs = [(f"i{n}", encode_ranking(["a"], [1.0])) for n in range(5)]
    redis_client.config_resetstat()
    assert writer.write_users(pairs) == 5
    assert writer.write_similar(pairs) == 5
    stats = redis_client.info("commandstats")
    assert stats["cmdstat_hset"]["calls"] == 6  # batches of 2, 2 and 1, for each hash
    assert redis_client.hlen(store.keys.users("v1")) == 5
    assert redis_client.hlen(store.keys.similar("v1")) == 5


def test_meta_values_json_cannot_hold_are_written_as_text(store, redis_client):
    writer = store.begin(version="v1")
    writer.write_meta({"path": Path("data/events.csv"), "share": Decimal("0.25")})
    assert orjson.loads(redis_client.get(store.keys.meta("v1"))) == {
        "path": "data/events.csv",
        "share": "0.25",
    }


def test_no_active_version_is_none(store):
    assert store.active_version() is None


def test_the_lock_expires_and_the_message_says_when(store, redis_client):
    store.begin(version="v1")
    assert 0 < redis_client.ttl(store.keys.lock) <= LOCK_SECONDS
    with pytest.raises(PublishError) as refused:
        store.begin(version="v2")
    assert str(refused.value) == (
        "another run is publishing version v1; if it died, its lock expires within 5 minutes, "
        "or delete the Redis key 't:lock'"
    )


def test_a_lock_that_vanished_meanwhile_is_named_as_unknown(store, monkeypatch):
    monkeypatch.setattr(store.client, "set", lambda *args, **kwargs: None)  # lost the race
    with pytest.raises(PublishError, match=r"^another run is publishing version \?; "):
        store.begin(version="v2")


def test_versions_carry_their_publish_time_in_utc_and_survive_lost_meta(store, redis_client):
    before = datetime.now(UTC)
    publish(store, {"u": ["a"]}, "v1")
    redis_client.delete(store.keys.meta("v1"))
    [info] = store.versions()
    assert info.published_at.tzinfo is UTC
    assert before - timedelta(seconds=1) <= info.published_at <= datetime.now(UTC)
    assert info.meta == {}


def test_rollback_from_the_second_version_to_the_first(store):
    publish(store, {"u": ["a"]}, "v1")
    publish(store, {"u": ["b"]}, "v2")
    assert store.rollback() == "v1"
    assert store.active_version() == "v1"
    with pytest.raises(PublishError, match=r"^there is no earlier version to roll back to$"):
        store.rollback()


def test_prune_keeps_three_by_default_and_never_a_run_in_progress(store, redis_client):
    for name in ("v1", "v2", "v3", "v4"):
        publish(store, {"u": [name]}, name)
    writer = store.begin(version="v5")
    writer.write_users([("u", encode_ranking(["x"], [1.0]))])
    assert store.prune() == ["v1"]
    assert [info.version for info in store.versions()] == ["v4", "v3", "v2"]
    assert store.unfinished_versions() == ["v5"]
    assert redis_client.exists(store.keys.users("v5"))


def test_version_ids_are_utc_time_and_six_hex_digits(monkeypatch):
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: a local time would show
    time.tzset()
    try:
        version = new_version_id()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", version)
    stamp = datetime.strptime(version[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=5)


def test_from_url_uses_the_prefix_and_the_timeouts(redis_url):
    for store, prefix, timeout in (
        (ModelStore.from_url(redis_url, prefix="p", timeout=3.0), "p", 3.0),
        (ModelStore.from_url(redis_url), "vitrina", 30.0),
    ):
        options = store.client.connection_pool.connection_kwargs
        assert (store.keys.prefix, options["socket_timeout"]) == (prefix, timeout)
        assert options["socket_connect_timeout"] == 5
        assert store.active_version() is None  # it reaches the right server
        store.client.close()
