from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest


def items(response) -> list[str]:
    return [entry["item_id"] for entry in response.json()["items"]]


def test_known_user_gets_their_stored_list(api, publish):
    publish("v1")
    response = api.get("/recommendations/u1", params={"k": 3})
    assert response.status_code == 200
    assert response.json() == {
        "user_id": "u1",
        "items": [
            {"item_id": "a", "score": 0.9, "reason": None},
            {"item_id": "b", "score": 0.8, "reason": None},
            {"item_id": "c", "score": 0.7, "reason": None},
        ],
        "model_version": "v1",
        "source": "personal",
        "fallback_items": 0,
    }


def test_unknown_user_gets_the_popular_fallback(api, publish):
    publish("v1")
    response = api.get("/recommendations/stranger", params={"k": 2})
    assert response.json()["source"] == "popular"
    assert items(response) == ["c", "a"]


def test_unknown_user_without_any_fallback_is_404(api, publish):
    publish("v1", fallbacks={})
    response = api.get("/recommendations/stranger", params={"k": 2})
    assert response.status_code == 404
    assert "unknown" in response.json()["detail"]


def test_exclude_leaves_products_out_and_keeps_k(api, publish):
    publish("v1")
    response = api.get("/recommendations/u1", params={"k": 3, "exclude": ["a", "c"]})
    assert items(response) == ["b", "d", "e"]
    assert response.json()["fallback_items"] == 1


def test_exclude_accepts_comma_separated_ids(api, publish):
    publish("v1")
    response = api.get("/recommendations/u1", params={"k": 2, "exclude": "a,b"})
    assert items(response) == ["c", "d"]


def test_exclude_applies_to_the_fallback_too(api, publish):
    publish("v1")
    response = api.get("/recommendations/stranger", params={"k": 2, "exclude": "c"})
    assert items(response) == ["a", "e"]


def test_exclude_bought_leaves_out_what_the_user_bought(api, publish):
    publish("v1")
    response = api.get("/recommendations/u1", params={"k": 3, "exclude_bought": "true"})
    assert items(response) == ["a", "c", "d"]


def test_bought_products_stay_unless_asked(api, publish):
    publish("v1")
    assert "b" in items(api.get("/recommendations/u1", params={"k": 3}))


def test_short_stored_list_is_topped_up_from_popular(api, publish):
    publish("v1")
    response = api.get("/recommendations/u2", params={"k": 4})
    assert items(response) == ["c", "e", "a", "f"]
    assert response.json()["fallback_items"] == 2


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/recommendations/u1", {"k": 0}, "k: Input should be greater than or equal to 1"),
        ("/recommendations/u1", {"k": -3}, "k: Input should be greater than or equal to 1"),
        ("/recommendations/u1", {"k": "ten"}, "k: Input should be a valid integer"),
        (
            "/recommendations/u1",
            {"k": 5},
            "k=5 is above the 4 products stored per user by model version v1",
        ),
        ("/recommendations/u1", {"k": 10**6}, "k: Input should be less than or equal to 1000"),
        ("/recommendations/" + "9" * 129, {}, "user_id: String should have at most 128 characters"),
        ("/recommendations/a%20b", {}, "user_id: String should match pattern"),
        ("/recommendations/a%00b", {}, "user_id: String should match pattern"),
        ("/recommendations/u1", {"exclude": "x" * 129}, "is not an id: an id is 1 to 128 print"),
        ("/recommendations/u1", {"exclude": "a b"}, "exclude: 'a b' is not an id: an id is 1 to"),
        ("/recommendations/u1", {"exclude": ",".join(map(str, range(501)))}, "501 ids given"),
        ("/recommendations/u1", {"exclude_bought": "maybe"}, "exclude_bought: Input should be"),
    ],
)
def test_bad_input_is_422_saying_what_is_wrong(api, publish, path, params, message):
    publish("v1")
    response = api.get(path, params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]


# Unicode controls, separators and format characters: `str.isprintable` refuses them all.
NOT_PRINTABLE = ["\u0085", "\u2028", "\u200b", "\u202e", "\u00a0", "\x1b", "\x00"]


@pytest.mark.parametrize("char", NOT_PRINTABLE, ids=lambda c: f"U+{ord(c):04X}")
def test_path_ids_and_exclude_follow_one_rule(api, publish, char):
    publish("v1")
    bad = f"u{char}1"
    for path, params, name in (
        (f"/recommendations/{quote(bad)}", {}, "user_id"),
        (f"/similar/{quote(bad)}", {}, "item_id"),
        ("/recommendations/u1", {"exclude": bad}, "exclude"),
        ("/popular", {"exclude": bad}, "exclude"),
    ):
        response = api.get(path, params=params)
        assert response.status_code == 422, (path, params)
        assert response.json()["detail"].startswith(f"{name}: ")


def test_ids_of_any_script_are_accepted(api, publish):
    publish("v1", users={"пользователь-1": (["товар/1", "c"], [0.9, 0.8], [])})
    response = api.get(
        f"/recommendations/{quote('пользователь-1')}", params={"k": 2, "exclude": "c"}
    )
    assert items(response) == ["товар/1", "a"]


def test_no_model_published_is_503(api):
    response = api.get("/recommendations/u1")
    assert response.status_code == 503
    assert response.json() == {"detail": "no model published yet"}


def test_concurrent_requests_each_get_their_own_user(api, publish):
    """Requests arriving together share one HMGET; each must still get its own list."""
    publish("v1")
    users = ["u1", "u2", "stranger"] * 10
    with ThreadPoolExecutor(max_workers=10) as pool:
        bodies = list(pool.map(lambda u: api.get(f"/recommendations/{u}?k=1").json(), users))
    firsts = {(b["user_id"], b["source"], b["items"][0]["item_id"]) for b in bodies}
    assert firsts == {
        ("u1", "personal", "a"),
        ("u2", "personal", "c"),
        ("stranger", "popular", "c"),
    }


def test_a_long_bad_value_is_not_echoed_whole(api, publish):
    publish("v1")
    response = api.get("/recommendations/" + "x" * 5000)
    assert response.status_code == 422
    assert len(response.json()["detail"]) < 200


def test_a_kept_version_is_served_on_request_and_a_pruned_one_is_404(api, publish, redis_url):
    publish("v1", users={"u1": (["old"], [1.0])})
    publish("v2")
    assert api.get("/recommendations/u1", params={"k": 3}).json()["model_version"] == "v2"
    pinned = api.get("/recommendations/u1", params={"k": 1, "version": "v1"})
    assert (pinned.json()["model_version"], items(pinned)) == ("v1", ["old"])
    assert api.get("/similar/a", params={"k": 1, "version": "v1"}).json()["model_version"] == "v1"
    assert api.get("/popular", params={"k": 1, "version": "v1"}).json()["model_version"] == "v1"
    gone = api.get("/recommendations/u1", params={"k": 1, "version": "v0"})
    assert gone.status_code == 404
    assert "model version 'v0' is not kept" in gone.json()["detail"]
    assert api.get("/recommendations/u1", params={"version": "a b"}).status_code == 422
