"""Session-aware re-ranking: the daily list blended with what the shopper did in the last hours.

Pure (no Redis, no clock) so the service and the offline replay (`bench/replay.py`) run the very
same function. Every product gets a score summed from rank-based parts, so lists of different
models and scales mix without calibration:

- its place in the daily list: `daily / (rank + 1)`;
- each recent event, newest first, weighs `type weight × decay ** position`; it adds
  `own × weight` to the product it was about (`viewed_today`; a purchase adds nothing, see below)
  and `similar × weight / (rank + 1)` to each of the first `depth` products of that product's
  similar list (`similar_to`).

A product bought in the session is left out unless the daily list marks it as a repeat buy
(`bought`): pushing what was just bought is noise, a regular's coffee is not. The reason shown is
that of the largest part: the daily list's own (passed through as stored) or the session's.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat

from vitrina_shared.redis_layout import Ranking
from vitrina_shared.schema import EventType

VIEW, CART, PURCHASE = EventType.VIEW.value, EventType.CART.value, EventType.PURCHASE.value
EVENT_TYPES = (VIEW, CART, PURCHASE)
VIEWED_TODAY = "viewed_today"
SIMILAR_TO = "similar_to"


@dataclass(frozen=True)
class Event:
    item: str
    type: str
    time: int  # unix seconds


@dataclass(frozen=True)
class Weights:
    """The blend's knobs; the defaults are the ones the replay measured (reco-service README)."""

    daily: float = 1.0
    own: float = 1.0
    similar: float = 0.5
    view: float = 1.0
    cart: float = 1.5
    purchase: float = 1.0
    decay: float = 0.8
    depth: int = 20  # similar products read per event: deeper ones add under 0.5 / 21 each

    def of(self, event_type: str) -> float:
        return {VIEW: self.view, CART: self.cart, PURCHASE: self.purchase}.get(event_type, 0.0)


@dataclass(frozen=True)
class Blended:
    item: str
    score: float
    reason: str | None


def blend(
    daily: Ranking | None,
    events: Sequence[Event],
    similar: Mapping[str, Ranking],
    k: int,
    exclude: Collection[str] = frozenset(),
    weights: Weights = Weights(),
) -> list[Blended]:
    """The best `k` products of the daily list re-ranked by `events` (newest first).

    `similar` maps a product of the events to its similar list (missing ones add nothing);
    `daily.reasons`, when the stored list has them, are passed through for its products.
    """
    if daily is not None and not events:  # nothing to re-rank by: the stored list as stored
        return _as_stored(daily, k, exclude)
    score: dict[str, float] = {}
    top_part: dict[str, float] = {}  # each product's largest part, and that part's reason
    reason: dict[str, str | None] = {}

    def add(items: Sequence[str], parts: Sequence[float], why: Sequence[str | None]) -> None:
        for item, part, because in zip(items, parts, why, strict=False):
            if item in score:
                score[item] += part
                if part <= top_part[item]:
                    continue
            else:
                score[item] = part
            top_part[item], reason[item] = part, because

    repeats = frozenset(daily.bought) if daily is not None else frozenset()
    if daily is not None:
        add(
            daily.items,
            [weights.daily / r for r in range(1, len(daily.items) + 1)],
            _reasons(daily),
        )
    for position, event in enumerate(events):
        weight = weights.of(event.type) * weights.decay**position
        if event.type != PURCHASE:
            add([event.item], [weights.own * weight], [f"{VIEWED_TODAY}:{event.item}"])
        neighbours = similar.get(event.item)
        if neighbours is not None:
            near = neighbours.items[: weights.depth]
            part = weights.similar * weight
            add(
                near,
                [part / r for r in range(1, len(near) + 1)],
                repeat(f"{SIMILAR_TO}:{event.item}"),
            )
    bought_now = {e.item for e in events if e.type == PURCHASE} - repeats
    ranked = sorted(
        (item for item in score if item not in exclude and item not in bought_now),
        key=score.__getitem__,
        reverse=True,
    )
    return [Blended(item, round(score[item], 6), reason[item]) for item in ranked[:k]]


def _reasons(daily: Ranking) -> list[str | None]:
    # Stored reasons arrive with the trainer's explanations (issue 13); older blobs have none.
    return getattr(daily, "reasons", None) or [None] * len(daily.items)


def _as_stored(daily: Ranking, k: int, exclude: Collection[str]) -> list[Blended]:
    chosen: list[Blended] = []
    seen: set[str] = set()
    for item, score, reason in zip(daily.items, daily.scores, _reasons(daily), strict=True):
        if item not in exclude and item not in seen and len(chosen) < k:
            chosen.append(Blended(item, score, reason))
            seen.add(item)
    return chosen
