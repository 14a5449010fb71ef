"""Cutting a stored ranking down to what one request asked for."""

from collections.abc import Collection

from vitrina_shared.redis_layout import Ranking


def select(
    ranking: Ranking, k: int, exclude: Collection[str], topup: Ranking | None = None
) -> tuple[list[tuple[str, float]], int]:
    """The best `k` items of `ranking` not in `exclude`, filled up from `topup` when it runs short.

    Returns the (item, score) pairs and how many of them came from `topup`.
    """
    chosen: list[tuple[str, float]] = []
    seen: set[str] = set()
    for item, score in zip(ranking.items, ranking.scores, strict=False):
        if item not in exclude and item not in seen:
            chosen.append((item, score))
            seen.add(item)
            if len(chosen) == k:
                return chosen, 0
    own = len(chosen)
    if topup is not None:
        for item, score in zip(topup.items, topup.scores, strict=False):
            if item not in exclude and item not in seen:
                chosen.append((item, score))
                seen.add(item)
                if len(chosen) == k:
                    break
    return chosen, len(chosen) - own
