"""Fixtures every package's tests share: a private real Redis, the real datasets, test data."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from vitrina_shared.redis_server import PrivateRedis, PrivateRedisCluster

REPO = Path(__file__).resolve().parent
DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[PrivateRedis]:
    """One private redis-server for the whole run; tests get a flushed database each."""
    with PrivateRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: PrivateRedis) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_cluster_server() -> Iterator[PrivateRedisCluster]:
    """A Redis Cluster of three private masters on loopback ports, for the whole run."""
    with PrivateRedisCluster(masters=3) as cluster:
        yield cluster


@pytest.fixture
def redis_cluster_url(redis_cluster_server: PrivateRedisCluster) -> Iterator[str]:
    """The cluster's first node, every node flushed."""
    for node in redis_cluster_server.nodes:
        with redis.Redis.from_url(node.url) as client:
            client.flushall()
    yield redis_cluster_server.url


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """../shared/datasets beside the repository; tests that need it skip cleanly without it."""
    if not (DATASETS / "online-retail-2009" / "events.csv.gz").exists():
        pytest.skip(f"real datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture(scope="session")
def test_database_url() -> str:
    """PostgreSQL for tests, only through TEST_DATABASE_URL (CI sets it)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return url
