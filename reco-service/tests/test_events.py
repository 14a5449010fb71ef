"""`POST /events` and the re-ranked `/recommendations` against the real (private) Redis."""

import pytest

from vitrina_shared.redis_layout import RedisKeys

KEYS = RedisKeys()
NOW = 1_780_000_000


def event(item, event_type="view_item", time=NOW, **shopper):
    return {"item_id": item, "event_type": event_type, "time": time, **shopper}


def post(api, *events):
    return api.post("/events", json={"events": list(events)})


def items(response) -> list[str]:
    return [entry["item_id"] for entry in response.json()["items"]]


def test_events_are_kept_newest_first_capped_and_expiring(serve, publish, redis_client):
    publish("v1")
    api = serve(RECO_RECENT_EVENTS=3, RECO_RECENT_TTL_SECONDS=60)
    # Sent out of order: stored by time, the newest at the head.
    response = post(api, *(event(f"p{i}", time=NOW + i, user_id="u9") for i in (4, 0, 3, 1, 2)))
    assert response.status_code == 202
    assert response.json() == {"accepted": 5}
    key = KEYS.recent("user", "u9")
    assert redis_client.lrange(key, 0, -1) == [
        f"p{i},view_item,{NOW + i}".encode() for i in (4, 3, 2)
    ]
    assert 0 < redis_client.ttl(key) <= 60


def test_a_view_re_ranks_a_known_users_list_with_reasons(api, publish):
    publish("v1")
    assert post(api, event("a", user_id="u2")).status_code == 202
    body = api.get("/recommendations/u2", params={"k": 4}).json()
    # u2's list is c, e; `a` viewed; a's similar list is b, c, d: c 1 + 0.5/2, a 1, e 1/2, b 0.5.
    assert body["source"] == "personal"
    assert [(i["item_id"], i["score"], i["reason"]) for i in body["items"]] == [
        ("c", 1.25, None),
        ("a", 1.0, "viewed_today:a"),
        ("e", 0.5, None),
        ("b", 0.5, "similar_to:a"),
    ]


def test_cold_start_a_visitors_first_view_gives_a_personal_list(api, publish):
    publish("v1")
    before = api.get("/recommendations/vis1", params={"k": 4, "visitor_id": "vis1"}).json()
    assert before["source"] == "popular"
    post(api, event("a", visitor_id="vis1"))
    after = api.get("/recommendations/vis1", params={"k": 4, "visitor_id": "vis1"}).json()
    assert after["source"] == "session"
    assert items_of(after) == ["a", "b", "c", "d"]
    assert after["fallback_items"] == 0


def items_of(body) -> list[str]:
    return [entry["item_id"] for entry in body["items"]]


def test_a_visitors_events_follow_them_when_signed_in(api, publish):
    publish("v1")
    post(api, event("a", visitor_id="vis2"))
    body = api.get("/recommendations/u2", params={"k": 2, "visitor_id": "vis2"}).json()
    assert items_of(body) == ["c", "a"]  # c: 1 + 0.5/2, a: 1


def test_a_product_just_bought_is_not_pushed_again_unless_a_repeat_buy(api, publish):
    publish("v1")
    post(api, event("a", "purchase", user_id="u2"), event("b", "purchase", user_id="u1"))
    assert "a" not in items_of(api.get("/recommendations/u2", params={"k": 4}).json())
    # u1 bought b before (the model stored it): a repeat buy stays.
    assert "b" in items_of(api.get("/recommendations/u1", params={"k": 4}).json())


def commands_sent(redis_client, request) -> list[list[str]]:
    """Every command clients sent to Redis while `request()` ran (MONITOR.

    A script's own reads, which run inside Redis, are left out), up to the test's own end
    marker.
    """
    with redis_client.monitor() as monitor:
        request()
        redis_client.echo("end-of-request")
        seen = []
        while (command := monitor.next_command())["command"] != "ECHO end-of-request":
            if command["client_type"] != "lua":
                seen.append((command["client_port"], command["command"].split()[0]))
        # The marker's connection (opened after MONITOR took the first) is the test's own.
        return [name for port, name in seen if port != command["client_port"]]


def reads_processed(redis_client) -> int:
    """Reads of the server from its clients' sockets so far: one per round trip (and per INFO)."""
    return redis_client.info("stats")["total_reads_processed"]


def test_one_redis_round_trip_per_answer(serve, publish, redis_client):
    publish("v1")
    api = serve(RECO_VERSION_TTL_SECONDS=60)
    post(api, event("a", user_id="u1"), event("c", "add_to_cart", user_id="u1"))
    post(api, event("x", visitor_id="vis3"))
    api.get("/recommendations/u1", params={"k": 4})  # caches the version, loads the script
    for params in ({"k": 4}, {"k": 4, "visitor_id": "vis3"}):
        response = None

        def ask(params=params):
            nonlocal response
            response = api.get("/recommendations/u1", params=params)

        # The stored list and the script reading the recent and similar lists, pipelined.
        assert commands_sent(redis_client, ask) == ["HMGET", "EVALSHA"]
        assert response is not None and response.json()["items"][0]["reason"] is not None
        before = reads_processed(redis_client)
        ask()
        assert reads_processed(redis_client) - before == 2  # the answer's and this INFO's


@pytest.mark.parametrize(
    "body, word",
    [
        ({"events": []}, "events"),
        ({"events": [event("a")]}, "exactly one"),
        ({"events": [event("a", user_id="u", visitor_id="v")]}, "exactly one"),
        ({"events": [event("a b", user_id="u")]}, "id is"),
        ({"events": [event("a", user_id="u,v")]}, "id is"),
        ({"events": [event("a", "click", user_id="u")]}, "event_type"),
        ({"events": [event("a", time="2026-12-01T10:00:00", user_id="u")]}, "time"),
        ({"events": [event("a", user_id="u")] * 101}, "events"),
        ({"events": [{**event("a", user_id="u"), "price": 3}]}, "price"),
    ],
)
def test_bad_events_are_a_422_that_says_why_and_store_nothing(
    api, publish, redis_client, body, word
):
    publish("v1")
    response = api.post("/events", json=body)
    assert response.status_code == 422
    assert word in response.json()["detail"]
    assert redis_client.keys("vitrina:recent:*") == []


def test_a_bad_visitor_id_is_a_422(api, publish):
    publish("v1")
    response = api.get("/recommendations/u1", params={"visitor_id": "a\u200bb"})
    assert response.status_code == 422
