import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
import redis

from vitrina_shared.model_meta import ModelMeta
from vitrina_shared.model_store import ModelStore, VersionWriter
from vitrina_shared.redis_layout import POPULAR, Ranking, RedisKeys, decode_ranking
from vitrina_trainer.publish import bought_items, publish, rankings


def recos(rows):
    return pd.DataFrame(rows, columns=["user_id", "item_id", "score", "rank"])


RECOS = recos([("u2", "b", 0.5, 2), ("u1", "x", 0.9, 1), ("u2", "a", 0.7, 1), ("u1", "y", 0.1, 2)])
SIMILAR = pd.DataFrame(
    [("a", "b", 0.8, 1), ("a", "x", 0.3, 2), ("b", "a", 0.8, 1)],
    columns=["target_item_id", "item_id", "score", "rank"],
)
POPULAR_FRAME = pd.DataFrame({"item_id": ["x", "a"], "score": [10.0, 7.0], "rank": [1, 2]})


@pytest.mark.parametrize("presorted", [False, True])
def test_rankings_group_by_key_in_rank_order_with_bought(presorted):
    frame = RECOS.sort_values(["user_id", "rank"]) if presorted else RECOS
    bought = pd.DataFrame({"user_id": ["u2", "u9", "u2"], "item_id": ["q", "z", "a"]})
    blobs = dict(rankings(frame, "user_id", "item_id", bought))
    assert blobs.keys() == {"u1", "u2"}
    u1, u2 = decode_ranking(blobs["u1"]), decode_ranking(blobs["u2"])
    assert (u1.items, u1.scores, u1.bought) == (["x", "y"], [0.9, 0.1], [])
    assert (u2.items, u2.scores, u2.bought) == (["a", "b"], [0.7, 0.5], ["q", "a"])


@pytest.mark.parametrize("presorted", [False, True])
def test_rankings_carry_reasons_and_the_discovery_order(presorted):
    frame = RECOS.assign(reason=["popular", "bought_before", "similar_to:x", "viewed_before"])
    discovery = pd.DataFrame(
        [("u2", "c", 0.4, 1, "popular_in_category:Toys"), ("u9", "d", 0.3, 1, "popular")],
        columns=["user_id", "item_id", "score", "rank", "reason"],
    )
    if presorted:
        frame = frame.sort_values(["user_id", "rank"])
    blobs = dict(rankings(frame, "user_id", "item_id", discovery=discovery))
    assert decode_ranking(blobs["u1"]) == Ranking(
        ["x", "y"], [0.9, 0.1], [], ["bought_before", "viewed_before"], None
    )
    assert decode_ranking(blobs["u2"]) == Ranking(
        ["a", "b"],
        [0.7, 0.5],
        [],
        ["similar_to:x", "popular"],
        Ranking(["c"], [0.4], reasons=["popular_in_category:Toys"]),
    )


def test_rankings_of_categorical_ids_are_strings_and_unused_categories_ignored():
    frame = RECOS.astype({"user_id": "category", "item_id": "category"})
    frame["user_id"] = frame["user_id"].cat.add_categories(["unused"])
    blobs = dict(rankings(frame, "user_id", "item_id"))
    assert blobs.keys() == {"u1", "u2"}
    assert decode_ranking(blobs["u1"]).items == ["x", "y"]


def test_rankings_of_nothing_is_empty():
    assert list(rankings(RECOS.iloc[:0], "user_id", "item_id")) == []


def test_bought_items_are_distinct_purchases_newest_first_capped():
    events = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "u", "v"],
            "item_id": ["a", "b", "a", "c", "a"],
            "datetime": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-01"]
            ),
            "event_type": ["purchase", "purchase", "purchase", "view_item", "purchase"],
        }
    )
    assert bought_items(events).to_dict("list") == {
        "user_id": ["u", "u", "v"],
        "item_id": ["a", "b", "a"],
    }
    assert bought_items(events, keep=1).to_dict("list") == {
        "user_id": ["u", "v"],
        "item_id": ["a", "a"],
    }


def publish_tiny(store, **meta):
    return publish(store, RECOS, SIMILAR, POPULAR_FRAME, ModelMeta(top_k=2, **meta))


def test_publish_writes_and_activates_a_version(redis_url):
    store = ModelStore.from_url(redis_url)
    done = publish_tiny(store, trained_at="2024-01-05T00:00:00+00:00")
    keys = store.keys
    assert store.active_version() == done.version
    assert (done.users, done.similar, done.fallbacks) == (2, 2, 1)
    assert decode_ranking(store.client.hget(keys.users(done.version), "u2")).items == ["a", "b"]
    assert decode_ranking(store.client.hget(keys.similar(done.version), "a")).items == ["b", "x"]
    popular = decode_ranking(store.client.hget(keys.fallbacks(done.version), POPULAR))
    assert (popular.items, popular.scores) == (["x", "a"], [10.0, 7.0])
    (info,) = store.versions()
    assert info.active and info.meta["counts"] == {"users": 2, "similar": 2, "fallbacks": 1}
    assert info.meta["top_k"] == 2 and info.meta["version"] == done.version
    assert info.meta["trained_at"] == "2024-01-05T00:00:00+00:00"
    assert not store.client.exists(keys.lock)


def test_publish_prunes_beyond_keep(redis_url):
    store = ModelStore.from_url(redis_url)
    versions = [
        publish(store, RECOS, SIMILAR, POPULAR_FRAME, ModelMeta(), keep=2).version for _ in range(3)
    ]
    assert [v.version for v in store.versions()] == versions[:0:-1]
    assert not store.client.exists(store.keys.users(versions[0]))


def test_failure_inside_the_writer_leaves_the_old_version_serving(redis_url, monkeypatch):
    store = ModelStore.from_url(redis_url)
    old = publish_tiny(store).version

    def broken(self, pairs):
        raise redis.ConnectionError("connection lost while writing")

    monkeypatch.setattr(VersionWriter, "write_similar", broken)
    with pytest.raises(redis.ConnectionError, match="connection lost"):
        publish_tiny(store)

    assert store.active_version() == old
    assert [v.version for v in store.versions()] == [old]
    assert decode_ranking(store.client.hget(store.keys.users(old), "u1")).items == ["x", "y"]
    leftover = [k.decode() for k in store.client.scan_iter("vitrina:v:*")]
    assert leftover and all(f":v:{old}:" in k for k in leftover)
    assert not store.client.smembers(store.keys.building)
    assert not store.client.exists(store.keys.lock)


SLOW_PUBLISH = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    from vitrina_shared.model_meta import ModelMeta
    from vitrina_shared.model_store import ModelStore
    from vitrina_trainer.publish import publish
    from vitrina_trainer.stages import exit_on_sigterm

    exit_on_sigterm()
    users, k = 100_000, 50
    recos = pd.DataFrame({
        "user_id": np.repeat(np.arange(users).astype(str), k),
        "item_id": np.tile(np.arange(k).astype(str), users),
        "score": np.tile(np.linspace(1, 0, k), users),
        "rank": np.tile(np.arange(1, k + 1), users),
    })
    empty = pd.DataFrame(columns=["target_item_id", "item_id", "score", "rank"])
    popular = pd.DataFrame({"item_id": ["0"], "score": [1.0], "rank": [1]})
    print("start", flush=True)
    publish(ModelStore.from_url(sys.argv[1]), recos, empty, popular, ModelMeta())
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_a_run_killed_mid_write_leaves_the_old_version_serving(redis_url, how):
    store = ModelStore.from_url(redis_url)
    old = publish_tiny(store).version
    keys = RedisKeys()
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_PUBLISH, redis_url], stdout=subprocess.PIPE, env=os.environ
    )
    try:
        assert child.stdout.readline() == b"start\n"
        deadline = time.monotonic() + 60
        half = None
        while time.monotonic() < deadline:
            half = store.client.get(keys.lock)
            if half and store.client.hlen(keys.users(half.decode())) > 0:
                break
            time.sleep(0.01)
        assert half, "the child never started writing"
        half = half.decode()
        child.send_signal(how)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()

    assert store.active_version() == old
    assert decode_ranking(store.client.hget(keys.users(old), "u1")).items == ["x", "y"]
    assert [v.version for v in store.versions()] == [old]
    if how == signal.SIGTERM:
        assert child.returncode == 143
        assert not store.client.exists(keys.users(half), keys.lock)
        assert not store.client.smembers(keys.building)
    else:
        # SIGKILL leaves the half-written version and the lock; once the lock is gone
        # (it expires, or an operator deletes it as the error message says) prune removes it.
        assert store.client.exists(keys.users(half))
        assert store.client.smembers(keys.building) == {half.encode()}
        store.client.delete(keys.lock)
        assert store.prune() == [half]
        assert not store.client.exists(keys.users(half))
    assert publish_tiny(store).version != old
