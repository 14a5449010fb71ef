"""The registry of model versions in Redis: write a version aside, then switch to it in one step.

A run that fails or is killed before `activate` leaves the active version untouched; what it wrote
stays registered in the `building` set until `prune` removes it. The same code runs on one Redis
and on a Redis Cluster (`REDIS_CLUSTER=true`): the registry's keys share a slot there
(`redis_layout`), so `activate` is still one atomic step.
"""

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from types import TracebackType
from typing import Any, Self

import orjson
import redis
from redis.exceptions import RedisClusterException

from vitrina_shared.redis_layout import RedisKeys
from vitrina_shared.settings import VitrinaSettings, hide_password

WRITE_BATCH = 5_000
# The publishing lock expires unless its writer renews it with every batch: a killed run
# blocks the next one for minutes, not hours.
LOCK_SECONDS = 300
RENEW_OWN_LOCK = (
    "if redis.call('get', KEYS[1]) == ARGV[1] "
    "then return redis.call('expire', KEYS[1], ARGV[2]) end"
)
RELEASE_OWN_LOCK = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
)
# Active pointer, published set and building set in one step (one slot on a cluster).
ACTIVATE = (
    "redis.call('set', KEYS[1], ARGV[1]); redis.call('zadd', KEYS[2], ARGV[2], ARGV[1]); "
    "redis.call('srem', KEYS[3], ARGV[1])"
)


class PublishError(RuntimeError):
    """Publishing cannot go on: another run holds the lock, or the version is unknown."""


class StoreUnreachableError(redis.ConnectionError):
    """Redis did not answer `ModelStore.connect`'s ping; the message names it (no password)."""


@dataclass(frozen=True)
class VersionInfo:
    version: str
    published_at: datetime
    active: bool
    meta: dict[str, Any]


def new_version_id(now: datetime | None = None) -> str:
    """Sortable by time, unique across runs started in the same second."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _batches(pairs: Iterable[tuple[str, bytes]], size: int) -> Iterator[dict[str, bytes]]:
    it = iter(pairs)
    while batch := dict(islice(it, size)):
        yield batch


class VersionWriter:
    """Writes one version's data; nothing is served from it until `ModelStore.activate`."""

    def __init__(self, client: redis.Redis, keys: RedisKeys, version: str):
        self.client, self.keys, self.version = client, keys, version

    def _write_hash(self, key: str, pairs: Iterable[tuple[str, bytes]]) -> int:
        written = 0
        for batch in _batches(pairs, WRITE_BATCH):
            self.client.hset(key, mapping=batch)
            self.renew_lock()
            written += len(batch)
        return written

    def _write_users(self, pairs: Iterable[tuple[str, bytes]]) -> int:
        """Each batch in one round trip (per node): a command per bucket hash on a cluster."""
        written = 0
        for batch in _batches(pairs, WRITE_BATCH):
            by_key: dict[str, dict[str, bytes]] = {}
            for user, blob in batch.items():
                by_key.setdefault(self.keys.user_hash(self.version, user), {})[user] = blob
            with self.client.pipeline(transaction=False) as pipe:
                for key, mapping in by_key.items():
                    pipe.hset(key, mapping=mapping)
                pipe.execute()
            self.renew_lock()
            written += len(batch)
        return written

    def renew_lock(self) -> None:
        if not self.client.eval(RENEW_OWN_LOCK, 1, self.keys.lock, self.version, LOCK_SECONDS):
            raise PublishError(
                f"version {self.version} lost the publishing lock (it expired or was deleted)"
            )

    def write_users(self, pairs: Iterable[tuple[str, bytes]]) -> int:
        """Store each user's encoded ranking; returns how many were written."""
        return self._write_users(pairs)

    def write_similar(self, pairs: Iterable[tuple[str, bytes]]) -> int:
        return self._write_hash(self.keys.similar(self.version), pairs)

    def write_fallbacks(self, pairs: Iterable[tuple[str, bytes]]) -> int:
        return self._write_hash(self.keys.fallbacks(self.version), pairs)

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.client.set(self.keys.meta(self.version), orjson.dumps(meta, default=str))


class ModelStore:
    """The registry of published versions in one Redis database.

    `connect` checks that Redis answers; `close` (or a `with` block) hands the connections back.
    """

    def __init__(
        self,
        client: redis.Redis | redis.RedisCluster,
        prefix: str = "vitrina",
        cluster: bool = False,
    ):
        self.client = client
        self.keys = RedisKeys(prefix, cluster)

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "vitrina", timeout: float = 30.0, cluster: bool = False
    ) -> Self:
        """A store on `url` (any node of it when `cluster`), unchecked.

        The first command finds out whether Redis answers.
        """
        options = {"socket_timeout": timeout, "socket_connect_timeout": 5}
        if cluster:
            return cls(redis.RedisCluster.from_url(url, **options), prefix, cluster=True)
        return cls(redis.Redis.from_url(url, **options), prefix)

    @classmethod
    def connect(cls, settings: VitrinaSettings, timeout: float = 30.0) -> Self:
        """The store at the settings' `REDIS_URL` under their `REDIS_PREFIX`, after a ping."""
        shown = hide_password(settings.redis_url)
        try:
            store = cls.from_url(
                settings.redis_url, settings.redis_prefix, timeout, settings.redis_cluster
            )
        except (redis.RedisError, RedisClusterException) as exc:  # asks for the slots at once
            raise StoreUnreachableError(f"Redis Cluster at {shown} is unreachable: {exc}") from exc
        try:
            store.client.ping()
        except redis.RedisError as exc:
            store.close()
            raise StoreUnreachableError(f"Redis at {shown} is unreachable: {exc}") from exc
        return store

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def active_version(self) -> str | None:
        value = self.client.get(self.keys.active)
        return value.decode() if value is not None else None

    def lock_holder(self) -> str | None:
        """The version whose run holds the publishing lock, if a run does."""
        value = self.client.get(self.keys.lock)
        return value.decode() if value is not None else None

    def _locked_message(self, holder: str | None) -> str:
        return (
            f"another run is publishing version {holder or '?'}; if it died, its lock expires "
            f"within {LOCK_SECONDS // 60} minutes, or delete the Redis key {self.keys.lock!r}"
        )

    def begin(self, version: str | None = None) -> VersionWriter:
        """Take the publishing lock and register a version as being built."""
        version = version or new_version_id()
        if not self.client.set(self.keys.lock, version, nx=True, ex=LOCK_SECONDS):
            raise PublishError(self._locked_message(self.lock_holder()))
        self.client.sadd(self.keys.building, version)
        return VersionWriter(self.client, self.keys, version)

    def writer(self, version: str) -> VersionWriter:
        """A writer on a version another process `begin`s and activates (a Spark executor's)."""
        return VersionWriter(self.client, self.keys, version)

    def abort(self, writer: VersionWriter, keep_registered: bool = False) -> None:
        """Drop a version that will not be activated, and release the lock.

        `keep_registered` leaves its id in the `building` set, so the next `prune` deletes
        again whatever a straggling writer (a Spark task being cancelled) adds after this.
        """
        self.client.unlink(*self.keys.version_keys(writer.version))
        if not keep_registered:
            self.client.srem(self.keys.building, writer.version)
        self._release(writer.version)

    def activate(self, version: str) -> None:
        """Make `version` the served one, in one transaction: either all of this happens or none."""
        if not self.client.exists(self.keys.meta(version)):
            raise PublishError(f"version {version} has no metadata: it was never fully written")
        now = datetime.now(UTC).timestamp()
        keys = (self.keys.active, self.keys.versions, self.keys.building)
        self.client.eval(ACTIVATE, len(keys), *keys, version, now)
        self._release(version)

    def _release(self, version: str) -> None:
        # Release only our own lock: compare-and-delete in one server-side step.
        self.client.eval(RELEASE_OWN_LOCK, 1, self.keys.lock, version)

    def versions(self) -> list[VersionInfo]:
        """Published versions, newest first."""
        active = self.active_version()
        entries = self.client.zrevrange(self.keys.versions, 0, -1, withscores=True)
        if not entries:
            return []
        with self.client.pipeline(transaction=False) as pipe:  # the metas lie in many slots
            for v, _ in entries:
                pipe.get(self.keys.meta(v.decode()))
            metas = pipe.execute()
        return [
            VersionInfo(
                version=v.decode(),
                published_at=datetime.fromtimestamp(score, UTC),
                active=v.decode() == active,
                meta=orjson.loads(meta) if meta else {},
            )
            for (v, score), meta in zip(entries, metas, strict=True)
        ]

    def unfinished_versions(self) -> list[str]:
        """Versions being written now, or left half-written by a killed run until `prune`."""
        return sorted(v.decode() for v in self.client.smembers(self.keys.building))

    def rollback(self) -> str:
        """Switch to the version published before the active one; returns it."""
        names = [info.version for info in self.versions()]
        active = self.active_version()
        if active not in names or names.index(active) + 1 >= len(names):
            raise PublishError("there is no earlier version to roll back to")
        previous = names[names.index(active) + 1]
        self.client.set(self.keys.active, previous)
        return previous

    def prune(self, keep: int = 3) -> list[str]:
        """Delete all but the `keep` newest versions, and dead half-writes.

        Never the active version, nor one a running experiment of the shop has pinned.
        """
        pinned = {v.decode() for v in self.client.smembers(self.keys.pinned)}
        kept = {self.active_version(), *pinned}
        newest_first = [info.version for info in self.versions()]
        doomed = [v for v in newest_first[keep:] if v not in kept]
        running = self.lock_holder()
        doomed += [
            version
            for version in self.unfinished_versions()
            if version != running  # a run in progress is not dead
        ]
        for version in doomed:
            self.client.unlink(*self.keys.version_keys(version))
            self.client.zrem(self.keys.versions, version)
            self.client.srem(self.keys.building, version)
        return doomed
