"""Features of the customer, the product and the pair, for the ranker.

`FeatureBuilder.fit` summarises the events once into arrays indexed by codes (per user, per item)
and a sorted table of (user, item) pairs; `transform` looks candidates up in them with numpy
indexing and `searchsorted`, so the cost is linear in candidates and events, with no Python loop.
Recencies count back from `data.now`, so a model trained at one cut scores at another.
"""

from typing import Self

import numpy as np
import pandas as pd

from vitrina_shared.schema import Columns
from vitrina_trainer.interactions import Interactions

RECENT_DAYS = (7, 30)
DAY_KEYS = 1_000_000  # more days than any event log spans


def _lookup(keys: np.ndarray, table_keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """values[table_keys == key] for each key, NaN where the key is absent (table_keys sorted)."""
    out = np.full(len(keys), np.nan, dtype=np.float32)
    if len(table_keys) == 0:
        return out
    pos = np.searchsorted(table_keys, keys)
    pos_clipped = np.minimum(pos, len(table_keys) - 1)
    found = table_keys[pos_clipped] == keys
    out[found] = values[pos_clipped[found]]
    return out


def _group_median(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    frame = pd.DataFrame({"code": codes, "value": values}).dropna()
    medians = frame.groupby("code")["value"].median()
    out = np.full(size, np.nan, dtype=np.float32)
    out[medians.index.to_numpy()] = medians.to_numpy()
    return out


def _distinct_days(groups: np.ndarray, day_index: np.ndarray, size: int) -> np.ndarray:
    """On how many different days each group (code < `size`) has events; `day_index` from 0.

    One sort of (group, day) keys instead of a set per group.
    """
    keys = np.unique(groups.astype(np.int64) * DAY_KEYS + day_index)
    return np.bincount(keys // DAY_KEYS, minlength=size).astype(np.float32)


def _first_and_last(codes: np.ndarray, age: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Age of each code's first and last event (NaN for codes without one).

    Events are in time order and numpy leaves the last of repeated writes to an index, so writing
    the ages in reverse keeps each code's first event, writing them forwards its last.
    """
    first = np.full(size, np.nan)
    last = np.full(size, np.nan)
    first[codes[::-1]] = age[::-1]
    last[codes] = age
    return first, last


class FeatureBuilder:
    """Summaries of one slice of events, and the feature matrix of candidates against them."""

    def __init__(self, pair_half_life_days: float = 60.0):
        self.pair_half_life_days = pair_half_life_days
        self.user: dict[str, np.ndarray] = {}
        self.item: dict[str, np.ndarray] = {}
        self.pair_keys = np.array([], np.int64)
        self.pair: dict[str, np.ndarray] = {}
        self.item_category: np.ndarray | None = None
        self.category_keys = np.array([], np.int64)
        self.category_share = np.array([], np.float32)
        self.n_items = 0
        self.n_users = 0
        self.n_categories = 0

    def fit(self, data: Interactions, item_categories: np.ndarray | None = None) -> Self:
        """`item_categories`: a category code per item (−1 = none), or None without a catalog."""
        n_users, n_items = data.n_users, data.n_items
        self.n_items, self.n_users = n_items, n_users
        age = data.now - data.day
        day_index = np.floor(data.day).astype(np.int64)
        day_index -= day_index.min()

        pair_key = data.user.astype(np.int64) * n_items + data.item
        keys, inverse = np.unique(pair_key, return_inverse=True)
        pair_days = _distinct_days(inverse, day_index, len(keys))
        first_age = np.full(len(keys), -np.inf)
        np.maximum.at(first_age, inverse, age)
        last_age = np.full(len(keys), np.inf)
        np.minimum.at(last_age, inverse, age)
        decay = data.weight * np.exp2(-age / self.pair_half_life_days)
        cycle = (first_age - last_age) / np.maximum(pair_days - 1, 1)
        self.pair_keys = keys
        self.pair = {
            "pair_events": np.bincount(inverse, minlength=len(keys)).astype(np.float32),
            "pair_days": pair_days,
            "pair_qty": np.bincount(inverse, weights=data.qty, minlength=len(keys)),
            "pair_decayed": np.bincount(inverse, weights=decay, minlength=len(keys)),
            "pair_last_days": last_age,
            "pair_first_days": first_age,
            "pair_cycle_ratio": np.where(pair_days > 1, last_age / np.maximum(cycle, 1e-3), np.nan),
        }
        pair_user = (keys // n_items).astype(np.int64)
        pair_item = (keys % n_items).astype(np.int64)
        repeated = (pair_days > 1).astype(np.float64)

        user_items = np.bincount(pair_user, minlength=n_users).astype(np.float32)
        user_first, user_last = _first_and_last(data.user, age, n_users)
        self.user = {
            "user_events": np.bincount(data.user, minlength=n_users).astype(np.float32),
            "user_items": user_items,
            "user_days": _distinct_days(data.user, day_index, n_users),
            "user_last_days": user_last,
            "user_first_days": user_first,
            "user_repeat_share": np.bincount(pair_user, weights=repeated, minlength=n_users)
            / np.maximum(user_items, 1),
            "user_price": _group_median(data.user, data.price, n_users),
        }

        item_users = np.bincount(pair_item, minlength=n_items).astype(np.float32)
        item_first, item_last = _first_and_last(data.item, age, n_items)
        self.item = {
            "item_events": np.bincount(data.item, minlength=n_items).astype(np.float32),
            "item_users": item_users,
            "item_repeat_share": np.bincount(pair_item, weights=repeated, minlength=n_items)
            / np.maximum(item_users, 1),
            "item_last_days": item_last,
            "item_first_days": item_first,
            "item_price": _group_median(data.item, data.price, n_items),
        }
        for days in RECENT_DAYS:
            recent = age < days
            self.item[f"item_events_{days}d"] = np.bincount(
                data.item[recent], minlength=n_items
            ).astype(np.float32)
            # Customers who came to the product for the first time lately: its pull on new buyers.
            first_lately = first_age < days
            self.item[f"item_new_users_{days}d"] = np.bincount(
                pair_item[first_lately], minlength=n_items
            ).astype(np.float32)
            self.user[f"user_new_items_{days}d"] = np.bincount(
                pair_user[first_lately], minlength=n_users
            ).astype(np.float32)
        short, long = RECENT_DAYS
        self.item["item_trend"] = (self.item[f"item_events_{short}d"] + 1) / (
            self.item[f"item_events_{long}d"] * short / long + 1
        )

        self.item_category = None
        if item_categories is not None and (item_categories >= 0).any():
            self.item_category = np.asarray(item_categories, dtype=np.int64)
            self.n_categories = int(self.item_category.max()) + 1
            event_category = self.item_category[data.item]
            known = event_category >= 0
            cat_key = data.user[known].astype(np.int64) * self.n_categories + event_category[known]
            self.category_keys, counts = np.unique(cat_key, return_counts=True)
            totals = self.user["user_events"][self.category_keys // self.n_categories]
            self.category_share = (counts / np.maximum(totals, 1)).astype(np.float32)
        return self

    def for_customers(self, shard: Interactions) -> Self:
        """Customer and pair summaries of a shard's events (same item codes).

        The product summaries, learned on all events, kept.
        """
        copy = type(self)(self.pair_half_life_days).fit(shard, self.item_category)
        copy.item, copy.n_users = self.item, self.n_users
        return copy

    def transform(self, candidates: pd.DataFrame) -> pd.DataFrame:
        """One row of features per candidate row (same order); unknown values are NaN."""
        user = candidates[Columns.USER].to_numpy(np.int64)
        item = candidates[Columns.ITEM].to_numpy(np.int64)
        out: dict[str, np.ndarray] = {}
        for name, values in self.user.items():
            out[name] = values[user].astype(np.float32)
        for name, values in self.item.items():
            out[name] = values[item].astype(np.float32)
        keys = user * self.n_items + item
        for name, values in self.pair.items():
            out[name] = _lookup(keys, self.pair_keys, values)
        out["pair_events"] = np.nan_to_num(out["pair_events"])
        out["price_ratio"] = out["item_price"] / np.maximum(out["user_price"], 1.0)
        out["item_user_share"] = out["item_users"] / max(float(self.n_users), 1.0)
        if self.item_category is not None:
            category = self.item_category[item]
            share = _lookup(
                user * self.n_categories + category, self.category_keys, self.category_share
            )
            out["category_share"] = np.where(category >= 0, np.nan_to_num(share), np.nan)
        return pd.DataFrame(out, index=candidates.index)
