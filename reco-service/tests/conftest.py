"""reco-service fixtures.

Models published through the trainer's own code path, and the service running under uvicorn on a
loopback port, talked to over real HTTP.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
import redis
import uvicorn
from fastapi import FastAPI

from vitrina_reco.app import create_app
from vitrina_reco.cli import HTTP_PROTOCOL
from vitrina_reco.settings import RecoSettings
from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_layout import POPULAR, encode_ranking
from vitrina_shared.redis_server import PrivateRedis, free_port

# A tiny model: u1 bought `b`; `c` is everybody's favourite.
USERS = {
    "u1": (["a", "b", "c", "d"], [0.9, 0.8, 0.7, 0.6], ["b"]),
    "u2": (["c", "e"], [0.5, 0.4], []),
}
SIMILAR = {"a": (["b", "c", "d"], [0.3, 0.2, 0.1], [])}
FALLBACKS = {POPULAR: (["c", "a", "e", "f"], [40.0, 30.0, 20.0, 10.0], [])}
META = {
    "top_k": 4,
    "trained_at": "2026-11-28T03:00:00+00:00",
    "data": {"events": 1234, "users": 2, "items": 6},
    "metrics": {"ndcg@10": 0.33},
}

Rankings = dict[str, tuple[list[str], list[float], list[str]]]


def _encoded(rankings: Rankings) -> list[tuple[str, bytes]]:
    return [(key, encode_ranking(*value)) for key, value in rankings.items()]


def publish_version(
    url: str,
    version: str,
    users: Rankings = USERS,
    similar: Rankings = SIMILAR,
    fallbacks: Rankings = FALLBACKS,
    meta: dict[str, Any] = META,
) -> str:
    """Publish and activate a version exactly as the trainer does, through `ModelStore`."""
    client = redis.Redis.from_url(url)
    try:
        store = ModelStore(client)
        writer = store.begin(version)
        writer.write_users(_encoded(users))
        writer.write_similar(_encoded(similar))
        writer.write_fallbacks(_encoded(fallbacks))
        writer.write_meta(meta)
        store.activate(version)
    finally:
        client.close()
    return version


@pytest.fixture
def publish(redis_url: str) -> Callable[..., str]:
    """`publish(version, users=…, similar=…, fallbacks=…, meta=…)` on the test's Redis."""
    return lambda version="v1", **parts: publish_version(redis_url, version, **parts)


@pytest.fixture
def publish_to() -> Callable[..., str]:
    """`publish_to(url, version, …)`: the same, on another Redis."""
    return publish_version


@contextmanager
def serving(
    settings: RecoSettings, http: Any = HTTP_PROTOCOL, app: FastAPI | None = None
) -> Iterator[str]:
    """Run the app under uvicorn in a thread; yields its base URL and stops it afterwards.

    It answers through `http`, by default the protocol `vitrina-reco` runs; `app` is one built
    by the test, by default `create_app(settings)`.
    """
    config = uvicorn.Config(
        app or create_app(settings),
        host="127.0.0.1",
        port=free_port(),
        loop="asyncio",
        http=http,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("reco-service did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def settings_for(redis_url: str, **overrides: Any) -> RecoSettings:
    # A generous Redis budget: the tests of timeouts set their own; the rest must not flake when
    # the machine is busy.
    values = {
        "REDIS_URL": redis_url,
        "RECO_VERSION_TTL_SECONDS": 0,
        "RECO_ACCESS_LOG": False,
        "RECO_REDIS_TIMEOUT_MS": 2000,
    }
    return RecoSettings(**{**values, **overrides})


@pytest.fixture
def serve(redis_url: str) -> Iterator[Callable[..., httpx.Client]]:
    """`serve(**settings)` → an HTTP client of a running service on the test's Redis.

    `serve(http=…, …)` runs it with another uvicorn protocol class.
    """
    with ExitStack() as started:

        def start(http: Any = HTTP_PROTOCOL, **overrides: Any) -> httpx.Client:
            base = started.enter_context(serving(settings_for(redis_url, **overrides), http))
            return started.enter_context(httpx.Client(base_url=base, timeout=10))

        yield start


@pytest.fixture
def api(serve: Callable[..., httpx.Client]) -> httpx.Client:
    """The service without auth; the version cache off so every test sees what it published."""
    return serve()


@contextmanager
def serving_published(url: str, **overrides: Any) -> Iterator[str]:
    """A service with `v1` published on a flushed Redis at `url`."""
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()
    publish_version(url, "v1")
    with serving(settings_for(url, RECO_VERSION_TTL_SECONDS=2, **overrides)) as base:
        yield base


@pytest.fixture(scope="module")
def published_service(redis_server: PrivateRedis) -> Iterator[str]:
    """A service with `v1` published on the session's Redis, kept for a whole module."""
    with serving_published(redis_server.url) as base:
        yield base


API_TOKEN = "a-test-token-of-32-characters-xx"


@pytest.fixture(scope="module")
def published_service_with_auth(redis_server: PrivateRedis) -> Iterator[str]:
    """The same with `RECO_API_TOKEN=API_TOKEN`: every endpoint but health and docs needs it."""
    with serving_published(redis_server.url, RECO_API_TOKEN=API_TOKEN) as base:
        yield base


@pytest.fixture
def serve_at() -> Iterator[Callable[..., httpx.Client]]:
    """`serve_at(redis_url, **settings)`: like `serve`, on any Redis (e.g. a cluster's node)."""
    with ExitStack() as started:

        def start(redis_url: str, **overrides: Any) -> httpx.Client:
            base = started.enter_context(serving(settings_for(redis_url, **overrides)))
            return started.enter_context(httpx.Client(base_url=base, timeout=10))

        yield start
