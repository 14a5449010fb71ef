"""Offline metrics of the design doc: RecTools' ranking metrics plus MoneyPrecision, our own.

Frames: `reco` has user_id, item_id, rank; `truth` the relevant (user_id, item_id) pairs after the
cut; `history` the interactions before it (Serendipity needs it); `catalog` the recommendable items.
"""

from collections.abc import Collection

import numpy as np
import pandas as pd
from rectools.metrics import (
    MAP,
    NDCG,
    CatalogCoverage,
    Precision,
    Recall,
    Serendipity,
    calc_metrics,
)

from vitrina_shared.schema import Columns

K = 10


def money_precision(
    reco: pd.DataFrame, truth: pd.DataFrame, prices: pd.Series, k: int = K
) -> float:
    """Share of the money in each top-k list that the customer went on to buy, averaged per user.

    Hits weighted by price: Σ price(hits in top k) / Σ price(top k), for every user in `truth`
    (a user without recommendations counts 0). `prices`: item_id → unit price. The design doc's
    revenue proxy: a list whose hits are the expensive products is worth more to the shop.
    """
    users = pd.Index(truth[Columns.USER].unique())
    if len(users) == 0:
        return float("nan")
    top = reco[reco[Columns.RANK] <= k][[Columns.USER, Columns.ITEM]].drop_duplicates()
    top = top[top[Columns.USER].isin(users)]
    price = top[Columns.ITEM].map(prices).astype(float).fillna(0.0).to_numpy()
    relevant = pd.MultiIndex.from_frame(truth[[Columns.USER, Columns.ITEM]].drop_duplicates())
    hit = pd.MultiIndex.from_frame(top[[Columns.USER, Columns.ITEM]]).isin(relevant)
    frame = pd.DataFrame(
        {Columns.USER: top[Columns.USER].to_numpy(), "all": price, "hit": np.where(hit, price, 0.0)}
    )
    sums = frame.groupby(Columns.USER, observed=True)[["all", "hit"]].sum()
    per_user = (sums["hit"] / sums["all"].where(sums["all"] > 0)).fillna(0.0)
    return float(per_user.reindex(users, fill_value=0.0).mean())


def ranking_metrics(
    reco: pd.DataFrame,
    truth: pd.DataFrame,
    history: pd.DataFrame,
    catalog: Collection[str],
    prices: pd.Series,
    k: int = K,
) -> dict[str, float]:
    """Every metric of the report for one list of recommendations."""
    metrics = {
        f"ndcg@{k}": NDCG(k=k),
        f"precision@{k}": Precision(k=k),
        f"recall@{k}": Recall(k=k),
        f"map@{k}": MAP(k=k),
        f"serendipity@{k}": Serendipity(k=k),
        f"catalog_coverage@{k}": CatalogCoverage(k=k, normalize=True),
    }
    reco = reco[[Columns.USER, Columns.ITEM, Columns.RANK]]
    truth = truth[[Columns.USER, Columns.ITEM]].drop_duplicates()
    history = history[[Columns.USER, Columns.ITEM]].drop_duplicates()
    result = calc_metrics(metrics, reco, truth, prev_interactions=history, catalog=list(catalog))
    result[f"money_precision@{k}"] = money_precision(reco, truth, prices, k)
    return {name: float(result[name]) for name in [*metrics, f"money_precision@{k}"]}


def sanity_checks(
    reco: pd.DataFrame, users: Collection[str], catalog: Collection[str], k: int = K
) -> dict[str, bool]:
    """What must hold of any list the service will show: no repeats, only catalog items, k each."""
    per_user = reco.groupby(Columns.USER, observed=True).size()
    return {
        "no_duplicates": not reco.duplicated([Columns.USER, Columns.ITEM]).any(),
        "only_catalog_items": bool(reco[Columns.ITEM].isin(pd.Index(catalog)).all()),
        "k_items_for_every_user": bool(per_user.reindex(pd.Index(users), fill_value=0).eq(k).all()),
    }
