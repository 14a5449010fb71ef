"""Every Redis key of Vitrina, and how a ranked list is stored in it.

A published model is a *version*; all of its data lives under ``{prefix}:v:{version}:…`` and the
single key ``{prefix}:active`` names the version being served. Switching versions is one write.

| key | type | holds |
|---|---|---|
| `{prefix}:active` | string | the active version id |
| `{prefix}:versions` | sorted set | published versions, scored by publish time |
| `{prefix}:building` | set | versions being written (a killed run leaves its id here for pruning) |
| `{prefix}:lock` | string | held by the one trainer that is publishing |
| `{prefix}:pinned` | set | versions a running experiment of the shop serves: pruning keeps them |
| `{prefix}:v:{version}:meta` | string | the version's metadata, JSON (`model_meta.ModelMeta`) |
| `{prefix}:v:{version}:users` | hash | user id → ranking, with its reasons and discovery list |
| `{prefix}:v:{version}:similar` | hash | item id → ranking of similar items |
| `{prefix}:v:{version}:fallbacks` | hash | fallback name (`popular`, …) → ranking |
| `{prefix}:recent:{kind}:{id}` | list | a shopper's recent events, newest first (below) |

A ranking blob is JSON: `items` and `scores` (best first); optionally `bought` (what the user
bought, newest first), `reasons` (one per item, `reasons.Reason` text) and, for a user,
`discovery`: a nested ranking (`items`, `scores`, `reasons`) of products new to the user — the
order to serve when already-bought products are excluded. Everything a user needs is in the one
hash field, so serving stays one Redis read.

Recent events are written by reco-service's `POST /events` for a customer (`kind` = `user`) or an
anonymous visitor (`visitor`): one `{item id},{event type},{unix seconds}` entry per event (ids
hold no comma), capped to the newest `RECO_RECENT_EVENTS` and expiring `RECO_RECENT_TTL_SECONDS`
after the last write. They belong to no model version: a switch of versions keeps them.

On a Redis Cluster (`RedisKeys(cluster=True)`) the first four keys carry the hash tag
``{prefix}`` — written ``{vitrina}:active`` — so they share one slot and the switch to a new
version stays one transaction; and the users' hash is cut into `USER_BUCKETS` hashes,
``{prefix}:v:{version}:users:{bucket}``, a user's bucket being the CRC-32 of their id, so the
users spread over every shard while a user's list is still one `HGET` away. Session
re-ranking reads several keys in one script, which a cluster allows only within a slot: there
reco-service serves the stored list without it.
"""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

POPULAR = "popular"
# The longest list a version may store (per user, per product, per fallback): the trainer's
# settings refuse more, and no request's `k` may ask for more.
MAX_STORED_K = 1000


class RankingFormatError(ValueError):
    """A stored ranking is not the JSON `encode_ranking` writes (corrupt or foreign data)."""


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

    @property
    def pinned(self) -> str:
        return f"{self.prefix}:pinned"

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

    def recent(self, kind: str, subject: str) -> str:
        """A customer's (`kind` = `user`) or an anonymous visitor's (`visitor`) recent events."""
        return f"{self.prefix}:recent:{kind}:{subject}"

    def version_keys(self, version: str) -> list[str]:
        return [
            self.meta(version),
            *self.user_hashes(version),
            self.similar(version),
            self.fallbacks(version),
        ]


@dataclass(frozen=True)
class Ranking:
    """A ranked list of item ids with their scores, best first.

    `bought` is what the user bought; `reasons[i]` says why `items[i]` is there (empty when not
    published); `discovery` is the user's list of products new to them, best first.
    """

    items: list[str]
    scores: list[float]
    bought: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    discovery: "Ranking | None" = None


def _list_payload(
    items: Sequence[str], scores: Sequence[float], reasons: Sequence[str]
) -> dict[str, object]:
    if len(items) != len(scores):
        raise ValueError(f"{len(items)} items but {len(scores)} scores")
    if len(reasons) and len(reasons) != len(items):
        raise ValueError(f"{len(items)} items but {len(reasons)} reasons")
    # Rounded and serialised by numpy/orjson in C: the trainer encodes millions of these. numpy is
    # imported here, not at the top: reco-service only decodes, and its image carries no numpy.
    import numpy as np

    payload: dict[str, object] = {
        "items": list(items),
        "scores": np.asarray(scores, dtype=np.float64).round(6),
    }
    if len(reasons):
        payload["reasons"] = list(reasons)
    return payload


def encode_ranking(
    items: Sequence[str],
    scores: Sequence[float],
    bought: Sequence[str] = (),
    reasons: Sequence[str] = (),
    discovery: Ranking | None = None,
) -> bytes:
    payload = _list_payload(items, scores, reasons)
    if len(bought):
        payload["bought"] = list(bought)
    if discovery is not None:
        payload["discovery"] = _list_payload(discovery.items, discovery.scores, discovery.reasons)
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(type(v) is str for v in value)


def _checked_list(payload: object) -> tuple[list[str], list[float], list[str]]:
    """Items, scores and reasons of one list, checked.

    Ids and reasons are strings, scores numbers, all of one length (reasons may be absent).
    """
    if not isinstance(payload, dict):
        raise RankingFormatError(f"a JSON {type(payload).__name__}, not an object")
    items, scores = payload.get("items"), payload.get("scores")
    reasons = payload.get("reasons", [])
    if not (_strings(items) and _strings(reasons)):
        raise RankingFormatError("`items` and `reasons` must be lists of strings")
    if not (isinstance(scores, list) and all(type(s) in (float, int) for s in scores)):
        raise RankingFormatError("`scores` must be a list of numbers")
    if len(items) != len(scores) or (reasons and len(reasons) != len(items)):
        raise RankingFormatError(
            f"{len(items)} items, {len(scores)} scores and {len(reasons)} reasons"
        )
    return items, scores, reasons


def decode_ranking(blob: bytes | str) -> Ranking:
    """The ranking in `blob`, checked field by field, from any trainer version.

    Fields an older trainer did not write are empty (no discovery list: None). Raises
    `RankingFormatError` for anything malformed, so corrupt data is never served as a ranking.
    """
    try:
        payload = orjson.loads(blob)
    except orjson.JSONDecodeError as exc:
        raise RankingFormatError(f"not JSON: {exc}") from exc
    items, scores, reasons = _checked_list(payload)
    bought = payload.get("bought", [])
    if not _strings(bought):
        raise RankingFormatError("`bought` must be a list of strings")
    nested = payload.get("discovery")
    discovery = None
    if nested is not None:
        found_items, found_scores, found_reasons = _checked_list(nested)
        discovery = Ranking(found_items, found_scores, reasons=found_reasons)
    return Ranking(items, scores, bought, reasons, discovery)
