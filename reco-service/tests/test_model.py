from datetime import UTC, datetime


def test_model_describes_the_active_version(api, publish):
    publish("v1")
    body = api.get("/model").json()
    assert body["version"] == "v1"
    assert datetime.fromisoformat(body["trained_at"]) == datetime(2026, 11, 28, 3, tzinfo=UTC)
    assert (body["top_k"], body["similar_k"], body["fallback_k"]) == (4, 4, 4)
    assert body["fallbacks"] == ["popular"]
    assert body["data"] == {"events": 1234, "users": 2, "items": 6}
    assert body["metrics"] == {"ndcg@10": 0.33}
    assert body["meta"]["top_k"] == 4
    assert body["published_at"].startswith("20")


def test_model_without_list_lengths_in_meta_uses_the_fallback_length(api, publish):
    publish(
        "v1", meta={"trained_at": "2026-11-27T03:00:00Z"}, fallbacks={"popular": (["c"], [1.0], [])}
    )
    body = api.get("/model").json()
    assert (body["top_k"], body["similar_k"], body["fallback_k"]) == (1, 1, 1)
    assert (body["data"], body["metrics"]) == ({}, {})


def test_model_without_a_model_is_503(api):
    response = api.get("/model")
    assert (response.status_code, response.json()) == (503, {"detail": "no model published yet"})
