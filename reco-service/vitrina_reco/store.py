"""Reading what the trainer published: the active version (cached briefly) and its rankings.

A request costs one Redis round trip: the active version, its metadata and its fallback lists are
held in memory for `version_ttl` seconds, so only the product's own list is fetched, or for a user
their list, recent events and the similar lists of those events' products (`SessionReader`).
Every call is bounded by a client-side timeout; any Redis trouble becomes `StoreUnavailableError`.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TypeVar

import orjson
from pydantic import ValidationError
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, RedisError

from vitrina_reco.blending import Event
from vitrina_reco.pipelining import HashReader, SessionReader
from vitrina_shared.model_meta import ModelMeta
from vitrina_shared.redis_layout import (
    POPULAR,
    Ranking,
    RankingFormatError,
    RedisKeys,
    decode_ranking,
)

NO_MODEL = "no model published yet"

# Versions other than the active one whose state is cached (an experiment serves one or two).
MAX_KEPT_CACHED = 16

# Enough for one worker's concurrency; a request beyond it waits (bounded by the timeout).
POOL_SIZE = 64

T = TypeVar("T")

USER, VISITOR = "user", "visitor"


class StoreUnavailableError(RuntimeError):
    """Redis did not answer in time, refused the connection, or holds unreadable data."""


class NoModelPublishedError(RuntimeError):
    """Redis is fine but no version has been activated yet."""


@dataclass(frozen=True)
class Session:
    """What one `/recommendations` answer is built from, read in one round trip."""

    ranking: Ranking | None
    events: list[Event]
    similar: dict[str, Ranking]


@dataclass(frozen=True)
class ModelState:
    """The active version and the small parts of it every request may need.

    One is built per version and shared by all its requests, so what they derive from it (the
    fallback, the list lengths) is cached on it rather than worked out again per request.
    """

    version: str
    meta: ModelMeta
    fallbacks: dict[str, Ranking]
    published_at: datetime | None

    @staticmethod
    def _positive(value: int | None) -> int | None:
        return value if value is not None and value > 0 else None

    @cached_property
    def fallback_k(self) -> int:
        """Length of the fallback list: the most `/popular` may ask for."""
        return len(self.fallback[1].items) if self.fallback else 0

    @cached_property
    def top_k(self) -> int:
        """Products stored per user: the most `/recommendations` may ask for."""
        return self._positive(self.meta.top_k) or self.fallback_k

    @cached_property
    def similar_k(self) -> int:
        """Products stored per product: the most `/similar` may ask for."""
        return self._positive(self.meta.similar_k) or self.top_k

    @cached_property
    def fallback(self) -> tuple[str, Ranking] | None:
        """The list for unknown users: `popular` when published, else the first there is."""
        name = POPULAR if POPULAR in self.fallbacks else min(self.fallbacks, default=None)
        return (name, self.fallbacks[name]) if name is not None else None


def _retrieve(task: asyncio.Task) -> None:
    """Mark a shared refresh's failure as seen even when every waiter gave up (no warning)."""
    if not task.cancelled():
        task.exception()


def _event(entry: bytes) -> Event:
    item, event_type, time = entry.decode().split(",")
    return Event(item, event_type, int(time))


def event_entry(event: Event) -> str:
    """How `record` stores an event (the layout in `vitrina_shared.redis_layout`)."""
    return f"{event.item},{event.type},{event.time}"


class RecoStore:
    def __init__(self, client: Redis, keys: RedisKeys, timeout: float, version_ttl: float):
        self.client, self.keys = client, keys
        self.timeout, self.version_ttl = timeout, version_ttl
        self._state: ModelState | None = None
        self._expires = 0.0
        self._refreshing: asyncio.Task[ModelState] | None = None
        self._reader = HashReader(client)
        self._kept: dict[str, tuple[float, ModelState | None]] = {}
        self._session = SessionReader(client)

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
        await self._session.close()
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
        state = await self._read_version(version)
        return state or ModelState(version=version, meta={}, fallbacks={}, published_at=None)

    async def kept_version(self, version: str) -> ModelState | None:
        """Another published version (an experiment's), cached like the active one.

        None when it is not kept (pruned, or never published).
        """
        hit = self._kept.get(version)
        if hit is not None and time.monotonic() < hit[0]:
            return hit[1]
        state = await self._read_version(version)
        if len(self._kept) >= MAX_KEPT_CACHED:
            self._kept.clear()
        self._kept[version] = (time.monotonic() + self.version_ttl, state)
        return state

    async def _read_version(self, version: str) -> ModelState | None:
        async def load() -> list:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(self.keys.meta(version))
                pipe.hgetall(self.keys.fallbacks(version))
                pipe.zscore(self.keys.versions, version)
                return await pipe.execute()

        meta, fallbacks, published = await self._call(load)
        if meta is None and published is None:
            return None
        try:
            return ModelState(
                version=version,
                meta=ModelMeta.model_validate(orjson.loads(meta) if meta else {}),
                fallbacks={name.decode(): decode_ranking(blob) for name, blob in fallbacks.items()},
                published_at=datetime.fromtimestamp(published, UTC) if published else None,
            )
        except (ValidationError, ValueError, UnicodeDecodeError) as exc:  # metadata, JSON, ranking
            raise StoreUnavailableError(f"model version {version} is unreadable: {exc}") from exc

    async def _ranking(self, key: str, field: str) -> Ranking | None:
        blob = await self._call(lambda: self._reader.hget(key, field))
        if blob is None:
            return None
        try:
            return decode_ranking(blob)
        except RankingFormatError as exc:
            raise StoreUnavailableError(
                f"stored ranking {key}[{field}] is unreadable: {exc}"
            ) from exc

    async def user_ranking(self, version: str, user_id: str) -> Ranking | None:
        return await self._ranking(self.keys.user_hash(version, user_id), user_id)

    async def similar(self, version: str, item_id: str) -> Ranking | None:
        return await self._ranking(self.keys.similar(version), item_id)

    async def session(
        self, version: str, user_id: str, visitor_id: str | None, recent: int
    ) -> Session:
        """Everything a re-ranked answer needs, in one round trip (`SessionReader`).

        The user's stored list, the newest `recent` events of the user and of the visitor
        (merged, newest first) and the similar lists of their products. On a Redis Cluster
        these keys lie in different slots, which no script may read together: there the answer
        is the stored list alone (one HGET), not re-ranked.
        """
        if self.keys.cluster:
            return Session(ranking=await self.user_ranking(version, user_id), events=[], similar={})
        recent_keys = [self.keys.recent(USER, user_id)]
        if visitor_id is not None:
            recent_keys.append(self.keys.recent(VISITOR, visitor_id))
        users, similar = self.keys.users(version), self.keys.similar(version)
        reply = await self._call(
            lambda: self._session(users, similar, user_id, recent_keys, recent)
        )
        try:
            events = sorted(
                (_event(entry) for events in reply.recent for entry in events),
                key=lambda event: -event.time,
            )
            return Session(
                ranking=decode_ranking(reply.own) if reply.own is not None else None,
                events=events,
                similar={
                    item: decode_ranking(blob)
                    for item in {event.item for event in events}
                    if (blob := reply.similar.get(item.encode())) is not None
                },
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise StoreUnavailableError(f"stored session data is unreadable: {exc}") from exc

    async def record(self, events: dict[tuple[str, str], list[str]], cap: int, ttl: int) -> None:
        """Record a batch of events: one pipeline for the whole batch.

        Push each shopper's entries (oldest first, so the newest ends at the head), keep the
        newest `cap`, renew the TTL.
        """

        async def write() -> None:
            async with self.client.pipeline(transaction=False) as pipe:
                for (kind, subject), entries in events.items():
                    key = self.keys.recent(kind, subject)
                    pipe.lpush(key, *entries)
                    pipe.ltrim(key, 0, cap - 1)
                    pipe.expire(key, ttl)
                await pipe.execute()

        await self._call(write)

    async def active_version(self) -> str | None:
        """Asked of Redis right now, bypassing the cache: what readiness reports."""
        raw = await self._call(lambda: self.client.get(self.keys.active))
        return raw.decode() if raw is not None else None
