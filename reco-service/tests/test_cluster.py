"""reco-service reading from a Redis Cluster of three masters (REDIS_CLUSTER=true)."""

from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_layout import POPULAR, encode_ranking

USERS = {f"user-{n}": [f"item-{n}", "c"] for n in range(300)}


def publish(url: str, version: str, users: dict[str, list[str]]) -> None:
    with ModelStore.from_url(url, cluster=True) as store:
        writer = store.begin(version)
        writer.write_users(
            (user, encode_ranking(items, [2.0, 1.0])) for user, items in users.items()
        )
        writer.write_similar([("a", encode_ranking(["b", "c"], [0.2, 0.1]))])
        writer.write_fallbacks([(POPULAR, encode_ranking(["c", "a", "e"], [3.0, 2.0, 1.0]))])
        writer.write_meta({"top_k": 2})
        store.activate(version)


def test_lists_are_served_from_every_shard_and_switch_with_the_pointer(redis_cluster_url, serve_at):
    publish(redis_cluster_url, "v1", USERS)
    api = serve_at(redis_cluster_url, REDIS_CLUSTER=True)
    for n in (0, 1, 2, 57, 299):
        body = api.get(f"/recommendations/user-{n}", params={"k": 2}).json()
        assert body["source"] == "personal"
        assert [entry["item_id"] for entry in body["items"]] == [f"item-{n}", "c"]
    assert [e["item_id"] for e in api.get("/similar/a", params={"k": 2}).json()["items"]] == [
        "b",
        "c",
    ]
    assert api.get("/recommendations/stranger", params={"k": 2}).json()["source"] == "popular"

    publish(redis_cluster_url, "v2", {"user-0": ["new", "c"]})
    body = api.get("/recommendations/user-0", params={"k": 2}).json()
    assert body["model_version"] == "v2"
    assert body["items"][0]["item_id"] == "new"
    assert api.get("/ready").status_code == 200


def test_a_cluster_down_is_a_fast_503(serve_at):
    api = serve_at("redis://127.0.0.1:1/0", REDIS_CLUSTER=True, RECO_REDIS_TIMEOUT_MS=300)
    response = api.get("/recommendations/u1")
    assert response.status_code == 503
    assert "Redis" in response.json()["detail"]
