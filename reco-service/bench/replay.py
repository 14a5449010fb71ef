"""Offline evidence for session re-ranking.

Replay the real datasets and compare the next event's hit rate and NDCG@10 with and without
re-ranking, using the service's own `blending.blend`.

Protocol: events (with a customer id) after the 0.9 quantile of event time are replayed in periods:
each day after the cut, or, for data spanning under `SHORT_SPAN_DAYS` days (rees46-sample: three
hours), the whole time after the cut as one period. A period's lists are built from the events
before it, as the daily training would: the daily list is the customer's own history
(recency-weighted counts, `bought` = what they bought) followed by popular products, and each
product's similar list is its top item-item cosine neighbours. Within a period, every event with
an earlier event of the same customer in that period is a target; those earlier events (newest
first, at most `RECO_RECENT_EVENTS`) are the context. Without re-ranking the answer is the daily
list (popular for customers without history); with it, `blend(daily, context, similar)` topped up
from popular products like the service does.

.venv/bin/python reco-service/bench/replay.py [--datasets ../shared/datasets]
"""

import argparse
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from vitrina_reco.blending import Event, blend
from vitrina_reco.selection import select
from vitrina_reco.settings import RecoSettings
from vitrina_shared.events import read_events
from vitrina_shared.redis_layout import Ranking
from vitrina_shared.schema import Columns, EventType

DATASETS = ("online-retail-2009", "rees46-sample")
CUT_QUANTILE = 0.9
SHORT_SPAN_DAYS = 3
K = 10
STORED_K = 100  # products per user and per product, as the trainer stores
HALF_LIFE_DAYS = 30.0
RECENT = RecoSettings.model_fields["recent_events"].default


@dataclass
class Lists:
    """What the trainer would have published at the start of a period."""

    daily: dict[str, Ranking]
    similar: dict[str, Ranking]
    popular: Ranking


def build_lists(past: pd.DataFrame, start: pd.Timestamp) -> Lists:
    users, user_ids = pd.factorize(past[Columns.USER])
    items, item_ids = pd.factorize(past[Columns.ITEM])
    age_days = (start - past[Columns.DATETIME]).dt.total_seconds().to_numpy() / 86400
    decayed = 0.5 ** (age_days / HALF_LIFE_DAYS)
    shape = (len(user_ids), len(item_ids))
    matrix = sp.csr_matrix((decayed, (users, items)), shape=shape)
    matrix.sum_duplicates()
    popular_scores = np.asarray(matrix.sum(axis=0)).ravel()
    top = np.argsort(-popular_scores, kind="stable")[:STORED_K]
    popular = Ranking([str(item_ids[i]) for i in top], popular_scores[top].tolist())

    bought = defaultdict(list)
    purchases = past[past[Columns.EVENT] == EventType.PURCHASE]
    for user, item in zip(purchases[Columns.USER], purchases[Columns.ITEM], strict=True):
        bought[user].append(str(item))
    daily = {}
    for row, user in enumerate(user_ids):
        start_, end = matrix.indptr[row], matrix.indptr[row + 1]
        cols, vals = matrix.indices[start_:end], matrix.data[start_:end]
        order = np.argsort(-vals, kind="stable")[:STORED_K]
        own = [str(item_ids[c]) for c in cols[order]]
        scores = [float(v) for v in vals[order]]
        lowest = scores[-1] if scores else 1.0
        seen = set(own)
        for rank, item in enumerate(popular.items):
            if len(own) >= STORED_K:
                break
            if item not in seen:
                own.append(item)
                scores.append(lowest / (rank + 2))
        daily[str(user)] = Ranking(own, scores, sorted(set(bought.get(user, []))))

    binary = normalize((matrix > 0).astype(np.float32), axis=0)
    cosine = (binary.T @ binary).tocsr()
    cosine.setdiag(0)
    cosine.eliminate_zeros()
    similar = {}
    for row in range(cosine.shape[0]):
        start_, end = cosine.indptr[row], cosine.indptr[row + 1]
        if start_ == end:
            continue
        cols, vals = cosine.indices[start_:end], cosine.data[start_:end]
        order = np.argsort(-vals, kind="stable")[:STORED_K]
        similar[str(item_ids[row])] = Ranking(
            [str(item_ids[c]) for c in cols[order]], [float(v) for v in vals[order]]
        )
    return Lists(daily, similar, popular)


def periods(events: pd.DataFrame, cut: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    end = events[Columns.DATETIME].max() + pd.Timedelta(seconds=1)
    span = events[Columns.DATETIME].max() - events[Columns.DATETIME].min()
    if span < pd.Timedelta(days=SHORT_SPAN_DAYS):
        return [(cut, end)]
    days = pd.date_range(cut.floor("D") + pd.Timedelta(days=1), end.ceil("D"), freq="D")
    bounds = [cut, *days]
    return [(a, min(b, end)) for a, b in itertools.pairwise(bounds) if a < end]


def answer(lists: Lists, user: str, context: list[Event], rerank: bool) -> list[str]:
    daily = lists.daily.get(user)
    if not rerank or not context:
        chosen, _ = select(daily or lists.popular, K, ())
        return [item for item, _ in chosen]
    blended = [b.item for b in blend(daily, context, lists.similar, K)]
    extra, _ = select(lists.popular, K - len(blended), set(blended))
    return blended + [item for item, _ in extra]


def gain(ranked: list[str], target: str) -> tuple[float, float]:
    """(hit, NDCG@K) of one target: its single relevant product."""
    if target in ranked:
        return 1.0, 1.0 / math.log2(ranked.index(target) + 2)
    return 0.0, 0.0


def replay(path: Path) -> dict[str, float]:
    events = read_events(path).events
    events = events[events[Columns.USER].notna() & (events[Columns.USER].astype(str) != "")]
    events = events.sort_values(Columns.DATETIME, kind="stable")
    cut = events[Columns.DATETIME].quantile(CUT_QUANTILE)
    totals = {"targets": 0, "hit_without": 0.0, "hit_with": 0.0, "ndcg_without": 0.0}
    totals["ndcg_with"] = 0.0
    for start, end in periods(events, cut):
        times = events[Columns.DATETIME]
        now = events[(times >= start) & (times < end)]
        if now.empty:
            continue
        lists = build_lists(events[times < start], start)
        for user, rows in now.groupby(Columns.USER, observed=True, sort=False):
            seen: list[Event] = []
            for time, moment in rows.groupby(Columns.DATETIME, sort=True):
                context = seen[::-1][:RECENT]
                if context:
                    for item in moment[Columns.ITEM].astype(str):
                        for rerank in (False, True):
                            hit, ndcg = gain(answer(lists, str(user), context, rerank), item)
                            side = "with" if rerank else "without"
                            totals[f"hit_{side}"] += hit
                            totals[f"ndcg_{side}"] += ndcg
                        totals["targets"] += 1
                seconds = int(time.timestamp())
                seen += [
                    Event(str(item), str(kind), seconds)
                    for item, kind in zip(moment[Columns.ITEM], moment[Columns.EVENT], strict=True)
                ]
    n = max(totals["targets"], 1)
    return {key: value / n if key != "targets" else value for key, value in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()
    print(
        f"| dataset | targets | hit@{K} without | hit@{K} with | NDCG@{K} without | NDCG@{K} with |"
    )
    print("|---|---|---|---|---|---|")
    for name in DATASETS:
        r = replay(args.datasets / name / "events.csv.gz")
        print(
            f"| {name} | {r['targets']:,} | {r['hit_without']:.4f} | {r['hit_with']:.4f} "
            f"| {r['ndcg_without']:.4f} | {r['ndcg_with']:.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
