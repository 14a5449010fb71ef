"""The fast path answers exactly as FastAPI would, and does answer the plain requests itself."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vitrina_reco.app import create_app
from vitrina_reco.fast_path import FastRecommendations

from .conftest import publish_version, serving, settings_for

TOKEN = "a-test-token-of-32-characters-xx"

USER_IDS = ["u1", "u2", "nobody", "u%2F1", "%E2%80%A8", "%00", "x" * 129, "%20u1", "u1%2Cu2"]
ODD_K = ["1", "2", "4", "5", "0", "010", "+3", " 3", "3 ", "1e1", "abc", "", "1001", "٣", "4.0"]
K_VALUES = [*ODD_K, "9" * 5000]  # the last one longer than `int()` reads
VALUES = {
    "k": K_VALUES,
    "exclude_bought": ["true", "false", "1", "0", "True", "yes", "off", "2", "", "tRuE"],
    "version": ["v1", "v2", "", "v 1", "v\u2028", "x" * 200],
    "visitor_id": ["s1", "", "a,b", "\u200b", "x" * 129],
    "exclude": ["a", "b,c", "", " ", "\x00", "d" * 129, ",", "c"],
    "other": ["anything"],
}
AUTHORIZATION = [
    None,
    f"Bearer {TOKEN}",
    f"bearer {TOKEN}",
    f"BEARER {TOKEN}",
    f"Bearer  {TOKEN}",
    f"Bearer {TOKEN}x",
    f"Bearer {TOKEN[:-1]}",
    f"Basic {TOKEN}",
    TOKEN,
    "Bearer é".encode(),  # UTF-8 bytes, read by the server as latin-1
]

queries = st.lists(
    st.sampled_from(list(VALUES)).flatmap(
        lambda name: st.tuples(st.just(name), st.sampled_from(VALUES[name]))
    ),
    max_size=5,
)


class Counting:
    """The stack below the fast path, counting the requests it was left."""

    def __init__(self, app: Any):
        self.app, self.calls = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += scope["type"] == "http"
        await self.app(scope, receive, send)


def without_fast_path(app: Any) -> Any:
    """The app as FastAPI alone serves it: its own stack, no fast path in front."""
    app.middleware_stack = app.build_middleware_stack()
    return app


@pytest.fixture(scope="module")
def pair(redis_server) -> Iterator[tuple[httpx.Client, httpx.Client, Counting]]:
    """The same service twice on one Redis, with and without the fast path, both with a token."""
    with redis.Redis.from_url(redis_server.url) as client:
        client.flushall()
    publish_version(redis_server.url, "v2")
    publish_version(redis_server.url, "v1")
    settings_ = settings_for(redis_server.url, RECO_API_TOKEN=TOKEN)
    fast_app = create_app(settings_)
    fast: FastRecommendations = fast_app.middleware_stack.app  # type: ignore[union-attr]
    below = fast.app = Counting(fast.app)
    with (
        serving(settings_, app=fast_app) as fast_url,
        serving(settings_, app=without_fast_path(create_app(settings_))) as plain_url,
        httpx.Client(base_url=fast_url, timeout=10) as with_fast,
        httpx.Client(base_url=plain_url, timeout=10) as plain,
    ):
        yield with_fast, plain, below


def answer(client: httpx.Client, url: str, authorization: str | bytes | None) -> tuple:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get(url, headers=headers)
    return response.status_code, response.headers["content-type"], response.content


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(user=st.sampled_from(USER_IDS), query=queries)
def test_every_request_gets_the_answer_fastapi_gives(pair, user, query):
    with_fast, plain, _ = pair
    url = f"/recommendations/{user}?{urlencode(query, quote_via=quote)}"
    good = f"Bearer {TOKEN}"
    assert answer(with_fast, url, good) == answer(plain, url, good)


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in VALUES.items() for value in values]
)
def test_each_parameter_value_gets_the_answer_fastapi_gives(pair, name, value):
    with_fast, plain, _ = pair
    url = f"/recommendations/u1?{urlencode({name: value}, quote_via=quote)}"
    good = f"Bearer {TOKEN}"
    assert answer(with_fast, url, good) == answer(plain, url, good)


@pytest.mark.parametrize("authorization", AUTHORIZATION)
@pytest.mark.parametrize("url", ["/recommendations/u1", "/recommendations/u1?k=010"])
def test_every_authorization_gets_the_answer_fastapi_gives(pair, url, authorization):
    with_fast, plain, _ = pair
    assert answer(with_fast, url, authorization) == answer(plain, url, authorization)


def test_plain_requests_never_reach_fastapi_and_odd_ones_do(pair):
    with_fast, _, below = pair
    good = {"Authorization": f"Bearer {TOKEN}"}
    before = below.calls
    for url in (
        "/recommendations/u1",
        "/recommendations/u1?k=2&exclude=a,b&exclude=c&exclude_bought=true",
        "/recommendations/u2?version=v2&visitor_id=s1",
        "/recommendations/nobody",  # the popular fallback
        "/recommendations/u1?k=50",  # above the stored 4: the route refuses it, on the fast path
    ):
        with_fast.get(url, headers=good)
    assert below.calls == before
    for url, headers in (
        ("/recommendations/u1?k=010", good),
        ("/recommendations/u1", {}),
        ("/recommendations/u1?exclude_bought=yes", good),
        ("/health", {}),
    ):
        with_fast.get(url, headers=headers)
    assert below.calls == before + 4


def test_a_route_error_gets_the_apps_own_answer(pair):
    with_fast, _, _ = pair
    response = with_fast.get(
        "/recommendations/u1?version=gone", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 404
    assert response.json()["detail"].startswith("model version 'gone' is not kept")
