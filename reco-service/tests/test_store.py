"""The store against real Redis: the version cache, and Redis going away or hanging."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_server import PrivateRedis

ENDPOINTS = ["/recommendations/u1?k=2", "/similar/a?k=2", "/popular?k=2", "/model"]


# How long the tests of a hanging Redis make it hang: far past every budget they assert, so an
# answer that came in time was cut short by the client-side timeout, not by Redis waking up.
PAUSE_SECONDS = 2.0


def pause(client) -> float:
    """Make Redis hang; returns the `time.monotonic()` by which it answers again.

    It cannot be woken early: `CLIENT UNPAUSE` itself waits behind a pause of ALL commands.
    """
    client.execute_command("CLIENT", "PAUSE", int(PAUSE_SECONDS * 1000), "ALL")
    return time.monotonic() + PAUSE_SECONDS


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def test_a_new_version_is_picked_up_within_the_cache_time(serve, publish):
    # Long enough that one publish and one request fit inside it however busy the machine is.
    ttl = 1.0
    api = serve(RECO_VERSION_TTL_SECONDS=ttl)
    publish("v1")
    assert api.get("/recommendations/u1?k=2").json()["model_version"] == "v1"
    # The service (a thread of this process, same clock) read v1 before that answer arrived.
    stale_by = time.monotonic() + ttl
    publish("v2", users={"u1": (["z"], [1.0], [])})
    assert api.get("/recommendations/u1?k=2").json()["model_version"] == "v1"  # still cached
    wait_until(stale_by)
    body = api.get("/recommendations/u1", params={"k": 1}).json()
    assert (body["model_version"], body["items"][0]["item_id"]) == ("v2", "z")


def test_rollback_is_picked_up_too(api, publish, redis_client):
    publish("v1")
    publish("v2")
    assert api.get("/model").json()["version"] == "v2"
    ModelStore(redis_client).rollback()
    assert api.get("/model").json()["version"] == "v1"


@pytest.fixture
def own_redis():
    """A Redis this test may stop: the session's shared one must stay up."""
    server = PrivateRedis().start()
    yield server
    server.stop()


def test_redis_stopped_mid_test_gives_a_fast_503(serve, own_redis, publish_to):
    publish_to(own_redis.url, "v1")
    api = serve(REDIS_URL=own_redis.url, RECO_REDIS_TIMEOUT_MS=200)
    assert all(api.get(path).status_code == 200 for path in ENDPOINTS)
    own_redis.stop()
    for path in ENDPOINTS:
        start = time.perf_counter()
        response = api.get(path)
        assert time.perf_counter() - start < 1.0
        assert response.status_code == 503
        assert response.json()["detail"].startswith("Redis ")
    ready = api.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("Redis ")
    assert api.get("/health").status_code == 200


def test_slow_redis_gives_a_503_within_the_timeout_then_recovers(serve, publish, redis_client):
    publish("v1")
    api = serve(RECO_REDIS_TIMEOUT_MS=100)
    assert api.get("/recommendations/u1?k=2").status_code == 200
    resumes_at = pause(redis_client)
    start = time.perf_counter()
    response = api.get("/recommendations/u1?k=2")
    elapsed = time.perf_counter() - start
    assert response.status_code == 503
    assert response.json() == {"detail": "Redis did not answer within 100 ms"}
    assert elapsed < 1.0
    wait_until(resumes_at)
    assert api.get("/recommendations/u1?k=2").status_code == 200


def test_unreadable_stored_data_is_a_503_not_a_500(api, publish, redis_client):
    publish("v1")
    redis_client.hset("vitrina:v:v1:users", "u1", b"not json")
    response = api.get("/recommendations/u1?k=2")
    assert response.status_code == 503
    assert "unreadable" in response.json()["detail"]


def test_key_prefix_comes_from_settings(serve, redis_url, publish_to, redis_client):
    publish_to(redis_url, "v1")
    api = serve(REDIS_PREFIX="other")
    response = api.get("/model")
    assert response.status_code == 503
    assert response.json() == {"detail": "no model published yet"}  # Redis answered, under "other"


def test_requests_waiting_on_a_hanging_redis_share_one_timeout(serve, publish, redis_client):
    publish("v1")
    api = serve(RECO_REDIS_TIMEOUT_MS=150)
    resumes_at = pause(redis_client)

    def timed(_: int) -> tuple[int, float]:
        start = time.perf_counter()
        status = api.get("/popular?k=2").status_code
        return status, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(timed, range(8)))
    wait_until(resumes_at)
    assert {status for status, _ in results} == {503}
    assert max(elapsed for _, elapsed in results) < 1.0


def test_service_recovers_when_redis_comes_back(serve, own_redis, publish_to):
    publish_to(own_redis.url, "v1")
    api = serve(REDIS_URL=own_redis.url, RECO_REDIS_TIMEOUT_MS=500)
    assert api.get("/recommendations/u1?k=2").status_code == 200
    own_redis.stop()
    assert api.get("/recommendations/u1?k=2").status_code == 503
    own_redis.start()  # same port, empty: the trainer publishes again
    publish_to(own_redis.url, "v2")
    body = api.get("/recommendations/u1?k=2").json()
    assert (body["model_version"], body["source"]) == ("v2", "personal")


CORRUPT_RANKINGS = [
    b'{"items": 5, "scores": 3}',
    b'{"items": ["a", "b"], "scores": ["0.9", "0.8"]}',
    b'{"items": ["a", "b"], "scores": [true, false]}',
    b'{"items": ["a", "b"], "scores": [null, 0.8]}',
    b'{"items": [1, 2], "scores": [0.9, 0.8]}',
    b'{"items": ["a", "b"], "scores": [0.9]}',
    b'{"items": ["a"], "scores": [0.9], "bought": "b"}',
    b'{"scores": [0.9]}',
    b"[1, 2]",
    b'"text"',
    b"\xff\xfe",
]


@pytest.mark.parametrize("blob", CORRUPT_RANKINGS)
def test_a_corrupt_or_wrongly_typed_ranking_is_a_503_never_served(api, publish, redis_client, blob):
    publish("v1")
    redis_client.hset("vitrina:v:v1:users", "u1", blob)
    redis_client.hset("vitrina:v:v1:similar", "a", blob)
    for path in ("/recommendations/u1?k=2", "/similar/a?k=2"):
        response = api.get(path)
        assert response.status_code == 503, (path, response.text)
        assert "is unreadable" in response.json()["detail"]


@pytest.mark.parametrize("blob", CORRUPT_RANKINGS)
def test_a_corrupt_fallback_list_is_a_503(api, publish, redis_client, blob):
    publish("v1")
    redis_client.hset("vitrina:v:v1:fallbacks", "popular", blob)
    response = api.get("/popular?k=2")
    assert response.status_code == 503
    assert "model version v1 is unreadable" in response.json()["detail"]


@pytest.mark.parametrize(
    "meta",
    [
        b"[1, 2]",
        b'"text"',
        b"{broken",
        b"\xff",
        b'{"trained_at": "yesterday"}',
        b'{"top_k": "many"}',
    ],
)
def test_corrupt_metadata_is_a_503(api, publish, redis_client, meta):
    publish("v1")
    redis_client.set("vitrina:v:v1:meta", meta)
    response = api.get("/model")
    assert response.status_code == 503
    assert "model version v1 is unreadable" in response.json()["detail"]


EVENTS = {"events": [{"user_id": "u1", "item_id": "a", "event_type": "view_item", "time": 1}]}


def test_events_with_redis_stopped_or_hanging_are_a_fast_503(serve, own_redis, publish_to):
    publish_to(own_redis.url, "v1")
    api = serve(REDIS_URL=own_redis.url, RECO_REDIS_TIMEOUT_MS=200)
    assert api.post("/events", json=EVENTS).status_code == 202
    client = redis.Redis.from_url(own_redis.url)
    pause(client)
    client.close()
    start = time.perf_counter()
    response = api.post("/events", json=EVENTS)
    assert (response.status_code, time.perf_counter() - start < 1.0) == (503, True)
    assert response.json() == {"detail": "Redis did not answer within 200 ms"}
    own_redis.stop()
    response = api.post("/events", json=EVENTS)
    assert response.status_code == 503
    assert response.json()["detail"].startswith("Redis ")


def test_an_unreadable_recent_event_is_a_503_not_a_500(api, publish, redis_client):
    publish("v1")
    redis_client.lpush("vitrina:recent:user:u1", b"a,view_item,not-a-time")
    response = api.get("/recommendations/u1?k=2")
    assert response.status_code == 503
    assert "unreadable" in response.json()["detail"]
