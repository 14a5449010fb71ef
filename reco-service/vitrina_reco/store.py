"""Reading what the trainer published: the active version (cached briefly) and its rankings.

A request costs one Redis round trip: the active version, its metadata and its fallback lists are
held in memory for `version_ttl` seconds, so only the user's (or product's) own list is fetched.
Every call is bounded by a client-side timeout; any Redis trouble becomes `StoreUnavailableError`.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar

import orjson
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from vitrina_reco.pipelining import HashReader
from vitrina_shared.redis_layout import POPULAR, Ranking, RedisKeys, decode_ranking

# Metadata keys the service reads; the trainer writes them (absent ones fall back as documented).
META_TOP_K = "top_k"
META_SIMILAR_K = "similar_k"

NO_MODEL = "no model published yet"

# Enough for one worker's concurrency; a request beyond it waits (bounded by the timeout).
POOL_SIZE = 64

T = TypeVar("T")


class StoreUnavailableError(RuntimeError):
    """Redis did not answer in time, refused the connection, or holds unreadable data."""


class NoModelPublishedError(RuntimeError):
    """Redis is fine but no version has been activated yet."""


@dataclass(frozen=True)
class ModelState:
    """The active version and the small parts of it every request may need.

    One is built per version and shared by all its requests, so what they derive from it (the
    fallback, the list lengths) is cached on it rather than worked out again per request.
    """

    version: str
    meta: dict[str, Any]
    fallbacks: dict[str, Ranking]
    published_at: datetime | None

    def _stored(self, key: str) -> int | None:
        value = self.meta.get(key)
        return value if isinstance(value, int) and value > 0 else None

    @cached_property
    def fallback_k(self) -> int:
        """Length of the fallback list: the most `/popular` may ask for."""
        return len(self.fallback[1].items) if self.fallback else 0

    @cached_property
    def top_k(self) -> int:
        """Products stored per user: the most `/recommendations` may ask for."""
        return self._stored(META_TOP_K) or self.fallback_k

    @cached_property
    def similar_k(self) -> int:
        """Products stored per product: the most `/similar` may ask for."""
        return self._stored(META_SIMILAR_K) or self.top_k

    @cached_property
    def fallback(self) -> tuple[str, Ranking] | None:
        """The list for unknown users: `popular` when published, else the first there is."""
        name = POPULAR if POPULAR in self.fallbacks else min(self.fallbacks, default=None)
        return (name, self.fallbacks[name]) if name is not None else None


def _retrieve(task: asyncio.Task) -> None:
    """Mark a shared refresh's failure as seen even when every waiter gave up (no warning)."""
    if not task.cancelled():
        task.exception()


class RecoStore:
    def __init__(self, client: Redis, keys: RedisKeys, timeout: float, version_ttl: float):
        self.client, self.keys = client, keys
        self.timeout, self.version_ttl = timeout, version_ttl
        self._state: ModelState | None = None
        self._expires = 0.0
        self._refreshing: asyncio.Task[ModelState] | None = None
        self._reader = HashReader(client)

    @classmethod
    def connect(
        cls, url: str, prefix: str, timeout: float, version_ttl: float, cluster: bool = False
    ) -> "RecoStore":
        """A pooled hiredis client; connecting, reading and waiting for a connection are bounded.

        With `cluster`, `url` names any node of a Redis Cluster; the client finds the others.
        """
        if cluster:
            client = RedisCluster.from_url(
                url,
                max_connections=POOL_SIZE,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), retries=1),
            )
            return cls(client, RedisKeys(prefix, cluster=True), timeout, version_ttl)
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=POOL_SIZE,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), retries=1),
            health_check_interval=0,
        )
        return cls(Redis.from_pool(pool), RedisKeys(prefix), timeout, version_ttl)

    async def close(self) -> None:
        await self._reader.close()
        await self.client.aclose()  # the client owns its pool (`from_pool`) and closes it

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            async with asyncio.timeout(self.timeout):
                return await call()
        except TimeoutError as exc:
            raise StoreUnavailableError(
                f"Redis did not answer within {self.timeout * 1000:.0f} ms"
            ) from exc
        except (RedisError, RedisClusterException, OSError) as exc:
            raise StoreUnavailableError(f"Redis unavailable: {exc}") from exc

    async def state(self) -> ModelState:
        """The active version, refreshed from Redis at most every `version_ttl` seconds.

        Requests that find it stale share one refresh (and its failure): with Redis hanging,
        they all get their 503 after one timeout, not one timeout after another.
        """
        if self._state is not None and time.monotonic() < self._expires:
            return self._state
        if self._refreshing is None:
            self._refreshing = asyncio.ensure_future(self._refresh())
            self._refreshing.add_done_callback(_retrieve)
        return await asyncio.shield(self._refreshing)

    async def _refresh(self) -> ModelState:
        try:
            self._state = await self._load_state()
            self._expires = time.monotonic() + self.version_ttl
            return self._state
        finally:
            self._refreshing = None

    async def _load_state(self) -> ModelState:
        version = await self.active_version()
        if version is None:
            raise NoModelPublishedError(NO_MODEL)
        if self._state is not None and self._state.version == version:
            return self._state

        async def load() -> list:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(self.keys.meta(version))
                pipe.hgetall(self.keys.fallbacks(version))
                pipe.zscore(self.keys.versions, version)
                return await pipe.execute()

        meta, fallbacks, published = await self._call(load)
        try:
            return ModelState(
                version=version,
                meta=orjson.loads(meta) if meta else {},
                fallbacks={name.decode(): decode_ranking(blob) for name, blob in fallbacks.items()},
                published_at=datetime.fromtimestamp(published, UTC) if published else None,
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise StoreUnavailableError(f"model version {version} is unreadable: {exc!r}") from exc

    async def _ranking(self, key: str, field: str) -> Ranking | None:
        blob = await self._call(lambda: self._reader.hget(key, field))
        if blob is None:
            return None
        try:
            return decode_ranking(blob)
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise StoreUnavailableError(f"stored ranking {key}[{field}] is unreadable") from exc

    async def user_ranking(self, version: str, user_id: str) -> Ranking | None:
        return await self._ranking(self.keys.user_hash(version, user_id), user_id)

    async def similar(self, version: str, item_id: str) -> Ranking | None:
        return await self._ranking(self.keys.similar(version), item_id)

    async def active_version(self) -> str | None:
        """Asked of Redis right now, bypassing the cache: what readiness reports."""
        raw = await self._call(lambda: self.client.get(self.keys.active))
        return raw.decode() if raw is not None else None
