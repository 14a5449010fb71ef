"""Cutting a stored ranking down to what one request asked for."""

from collections.abc import Collection

from vitrina_shared.redis_layout import Ranking

Pairs = list[tuple[str, float]]


def select(
    ranking: Ranking, k: int, exclude: Collection[str], topup: Ranking | None = None
) -> tuple[Pairs, int]:
    """The best `k` items of `ranking` not in `exclude`, filled up from `topup` when it runs short.

    Returns the (item, score) pairs and how many of them came from `topup`.
    """
    chosen: Pairs = []
    seen: set[str] = set()
    for item, score in zip(ranking.items, ranking.scores, strict=True):
        if item not in exclude and item not in seen:
            chosen.append((item, score))
            seen.add(item)
            if len(chosen) == k:
                return chosen, 0
    own = len(chosen)
    if topup is not None:
        for item, score in zip(topup.items, topup.scores, strict=True):
            if item not in exclude and item not in seen:
                chosen.append((item, score))
                seen.add(item)
                if len(chosen) == k:
                    break
    return chosen, len(chosen) - own


def select_or_fallback(
    own: Ranking | None,
    own_source: str,
    fallback: tuple[str, Ranking] | None,
    k: int,
    exclude: Collection[str],
) -> tuple[str, Pairs, int] | None:
    """`own` topped up from the fallback; for an id with no stored list, the fallback alone.

    Returns the source that answered, the pairs and how many were topped up; None when there is
    neither list, which the caller reports as an unknown id.
    """
    if own is not None:
        return own_source, *select(own, k, exclude, fallback[1] if fallback else None)
    if fallback is None:
        return None
    name, ranking = fallback
    return name, *select(ranking, k, exclude)
