"""The model store on a Redis Cluster of three masters: the same contract as on one Redis."""

from collections.abc import Iterator

import pytest
import redis

from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_layout import POPULAR, USER_BUCKETS, decode_ranking, encode_ranking
from vitrina_shared.settings import VitrinaSettings

USERS = {f"user-{n}": [f"item-{n}", "common"] for n in range(2_000)}


@pytest.fixture
def store(redis_cluster_url: str) -> Iterator[ModelStore]:
    settings = VitrinaSettings(REDIS_URL=redis_cluster_url, REDIS_CLUSTER=True, REDIS_PREFIX="c")
    with ModelStore.connect(settings) as store:
        yield store


def publish(store: ModelStore, users: dict[str, list[str]], name: str) -> None:
    writer = store.begin(version=name)
    writer.write_users((user, encode_ranking(items, [2.0, 1.0])) for user, items in users.items())
    writer.write_fallbacks([(POPULAR, encode_ranking(["p"], [1.0]))])
    writer.write_meta({"version": name})
    store.activate(name)


def test_a_version_is_published_switched_and_read_back(store: ModelStore) -> None:
    publish(store, USERS, "v1")
    publish(store, {"user-1": ["new", "x"]}, "v2")
    assert store.active_version() == "v2"
    assert [info.version for info in store.versions()] == ["v2", "v1"]
    blob = store.client.hget(store.keys.user_hash("v1", "user-7"), "user-7")
    assert decode_ranking(blob).items == ["item-7", "common"]
    assert store.rollback() == "v1"
    assert store.active_version() == "v1"


def test_users_spread_over_every_master(store: ModelStore) -> None:
    publish(store, USERS, "v1")
    per_node = [
        sum(
            node.redis_connection.hlen(key)
            for key in store.keys.user_hashes("v1")
            if store.client.get_node_from_key(key) == node
        )
        for node in store.client.get_primaries()
    ]
    assert sum(per_node) == len(USERS)
    assert min(per_node) > len(USERS) / 6  # about a third each
    assert len(store.keys.user_hashes("v1")) == USER_BUCKETS


def test_the_registry_keys_share_one_slot(store: ModelStore) -> None:
    keys = store.keys
    slots = {
        store.client.keyslot(k) for k in (keys.active, keys.versions, keys.building, keys.lock)
    }
    assert len(slots) == 1


def test_an_aborted_version_leaves_nothing_after_pruning(store: ModelStore) -> None:
    publish(store, {"a": ["x", "y"]}, "v1")
    writer = store.begin(version="v2")
    writer.write_users((user, encode_ranking(items, [2.0, 1.0])) for user, items in USERS.items())
    store.abort(writer, keep_registered=True)
    assert store.unfinished_versions() == ["v2"]
    assert store.prune() == ["v2"]
    assert store.active_version() == "v1"
    assert not any(store.client.exists(key) for key in store.keys.version_keys("v2"))


def test_an_unreachable_cluster_is_one_clear_error() -> None:
    settings = VitrinaSettings(REDIS_URL="redis://127.0.0.1:1/0", REDIS_CLUSTER=True)
    with pytest.raises(redis.ConnectionError, match=r"Redis Cluster at .* is unreachable"):
        ModelStore.connect(settings, timeout=1)
