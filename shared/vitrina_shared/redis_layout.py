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
| `{prefix}:v:{version}:users` | hash | user id → ranking, with its reasons and discovery list |
| `{prefix}:v:{version}:similar` | hash | item id → ranking of similar items |
| `{prefix}:v:{version}:fallbacks` | hash | fallback name (`popular`, …) → ranking |

A ranking blob is JSON: `items` and `scores` (best first); optionally `bought` (what the user
bought, newest first), `reasons` (one per item, `reasons.Reason` text) and, for a user,
`discovery`: a nested ranking (`items`, `scores`, `reasons`) of products new to the user — the
order to serve when already-bought products are excluded. Everything a user needs is in the one
hash field, so serving stays one Redis read.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson

POPULAR = "popular"


@dataclass(frozen=True)
class RedisKeys:
    prefix: str = "vitrina"

    @property
    def active(self) -> str:
        return f"{self.prefix}:active"

    @property
    def versions(self) -> str:
        return f"{self.prefix}:versions"

    @property
    def building(self) -> str:
        return f"{self.prefix}:building"

    @property
    def lock(self) -> str:
        return f"{self.prefix}:lock"

    def meta(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:meta"

    def users(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:users"

    def similar(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:similar"

    def fallbacks(self, version: str) -> str:
        return f"{self.prefix}:v:{version}:fallbacks"

    def version_keys(self, version: str) -> list[str]:
        return [
            self.meta(version),
            self.users(version),
            self.similar(version),
            self.fallbacks(version),
        ]


@dataclass(frozen=True)
class Ranking:
    """A ranked list of item ids with their scores, best first; `bought` is what the user bought;
    `reasons[i]` says why `items[i]` is there (empty when not published); `discovery` is the
    user's list of products new to them, best first."""

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
    # Rounded and serialised by numpy/orjson in C: the trainer encodes millions of these.
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


def decode_ranking(blob: bytes | str) -> Ranking:
    """Any blob any trainer version wrote: the fields it lacks are empty (no discovery: None)."""
    payload = orjson.loads(blob)
    nested = payload.get("discovery")
    discovery = (
        Ranking(nested["items"], nested["scores"], reasons=nested.get("reasons", []))
        if nested is not None
        else None
    )
    return Ranking(
        payload["items"],
        payload["scores"],
        payload.get("bought", []),
        payload.get("reasons", []),
        discovery,
    )
