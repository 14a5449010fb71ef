"""Every Redis key of Vitrina, and how a ranked list is stored in it.

A published model is a *version*; all of its data lives under ``{prefix}:v:{version}:…`` and the
single key ``{prefix}:active`` names the version being served. Switching versions is one write.

| key | type | holds |
|---|---|---|
| `{prefix}:active` | string | the active version id |
| `{prefix}:versions` | sorted set | published versions, scored by publish time |
| `{prefix}:building` | set | versions being written (a killed run leaves its id here for pruning) |
| `{prefix}:lock` | string | held by the one trainer that is publishing |
| `{prefix}:v:{version}:meta` | string | the version's metadata, JSON (`model_meta.ModelMeta`) |
| `{prefix}:v:{version}:users` | hash | user id → ranking |
| `{prefix}:v:{version}:similar` | hash | item id → ranking of similar items |
| `{prefix}:v:{version}:fallbacks` | hash | fallback name (`popular`, …) → ranking |

On a Redis Cluster (`RedisKeys(cluster=True)`) the first four keys carry the hash tag
``{prefix}`` — written ``{vitrina}:active`` — so they share one slot and the switch to a new
version stays one transaction; and the users' hash is cut into `USER_BUCKETS` hashes,
``{prefix}:v:{version}:users:{bucket}``, a user's bucket being the CRC-32 of their id, so the
users spread over every shard while a user's list is still one `HGET` away.
"""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson

POPULAR = "popular"
USER_BUCKETS = 1024


def user_bucket(user_id: str) -> int:
    """The bucket of a user's list on a Redis Cluster: the same in the trainer and the reader."""
    return zlib.crc32(user_id.encode()) % USER_BUCKETS


@dataclass(frozen=True)
class RedisKeys:
    prefix: str = "vitrina"
    cluster: bool = False

    @property
    def _registry(self) -> str:
        """The prefix of the registry's keys: a hash tag on a cluster, so they share a slot."""
        return f"{{{self.prefix}}}" if self.cluster else self.prefix

    @property
    def active(self) -> str:
        return f"{self._registry}:active"

    @property
    def versions(self) -> str:
        return f"{self._registry}:versions"

    @property
    def building(self) -> str:
        return f"{self._registry}:building"

    @property
    def lock(self) -> str:
        return f"{self._registry}:lock"

    def meta(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:meta"

    def users(self, version: str) -> str:
        """The users' hash; on a cluster the stem of the bucket hashes (`user_hash`)."""
        return f"{self.prefix}:v:{version}:users"

    def user_hash(self, version: str, user_id: str) -> str:
        """The hash that holds `user_id`'s list."""
        if not self.cluster:
            return self.users(version)
        return f"{self.users(version)}:{user_bucket(user_id)}"

    def user_hashes(self, version: str) -> list[str]:
        """Every hash of the version's user lists."""
        if not self.cluster:
            return [self.users(version)]
        return [f"{self.users(version)}:{bucket}" for bucket in range(USER_BUCKETS)]

    def similar(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:similar"

    def fallbacks(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:fallbacks"

    def version_keys(self, version: str) -> list[str]:
        return [
            self.meta(version),
            *self.user_hashes(version),
            self.similar(version),
            self.fallbacks(version),
        ]


@dataclass(frozen=True)
class Ranking:
    """A ranked list of item ids with their scores, best first; `bought` is what the user bought."""

    items: list[str]
    scores: list[float]
    bought: list[str] = field(default_factory=list)


def encode_ranking(
    items: Sequence[str], scores: Sequence[float], bought: Sequence[str] = ()
) -> bytes:
    if len(items) != len(scores):
        raise ValueError(f"{len(items)} items but {len(scores)} scores")
    # Rounded and serialised by numpy/orjson in C: the trainer encodes millions of these.
    payload: dict[str, object] = {
        "items": list(items),
        "scores": np.asarray(scores, dtype=np.float64).round(6),
    }
    if len(bought):
        payload["bought"] = list(bought)
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def decode_ranking(blob: bytes | str) -> Ranking:
    payload = orjson.loads(blob)
    return Ranking(payload["items"], payload["scores"], payload.get("bought", []))
