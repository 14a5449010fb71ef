"""Events as integer codes: the one encoding every stage of the model computes on.

Users and items become dense codes once (`Interactions.from_events`); a time slice of the data
keeps the same codes, so candidates, features and labels of different slices join on integers.
"""

from dataclasses import dataclass, replace
from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vitrina_shared.schema import Columns, EventType
from vitrina_trainer.errors import TrainerError

SECONDS_PER_DAY = 86_400.0
EPOCH = pd.Timestamp(0, tz="UTC")
DEFAULT_EVENT_WEIGHTS = {
    EventType.VIEW.value: 1.0,
    EventType.CART.value: 2.0,
    EventType.PURCHASE.value: 4.0,
}


def to_day(moment: pd.Timestamp) -> float:
    """A moment as days since the epoch: the time axis of `Interactions`."""
    return (pd.Timestamp(moment).tz_convert("UTC") - EPOCH).total_seconds() / SECONDS_PER_DAY


class InputError(TrainerError):
    """The event frame cannot be used: empty, or missing the reader's columns."""


@dataclass(frozen=True)
class Interactions:
    """Parallel arrays over events (sorted by time), plus the id ↔ code indexes.

    `day` is event time in days since the epoch (float), `now` the moment the data ends: every
    recency in the model is counted back from it.
    """

    users: pd.Index
    items: pd.Index
    user: np.ndarray
    item: np.ndarray
    day: np.ndarray
    weight: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    now: float

    @classmethod
    def from_events(
        cls,
        events: pd.DataFrame,
        event_weights: dict[str, float] | None = None,
        items: pd.Index | None = None,
    ) -> Self:
        """Encode the reader's frame; `items` fixes the item universe (e.g. the catalog)."""
        missing = {Columns.USER, Columns.ITEM, Columns.DATETIME} - set(events.columns)
        if missing:
            raise InputError(f"events lack the column(s) {sorted(missing)}")
        events = events[events[Columns.USER].notna() & (events[Columns.USER].astype(str) != "")]
        if events.empty:
            raise InputError("no events with a customer id: nothing to learn from")
        weights = event_weights or DEFAULT_EVENT_WEIGHTS
        times = pd.to_datetime(events[Columns.DATETIME], utc=True)
        order = np.argsort(times.to_numpy(), kind="stable")
        events = events.iloc[order]
        times = times.iloc[order]
        user_codes, users = pd.factorize(events[Columns.USER].astype(str))
        item_ids = events[Columns.ITEM].astype(str)
        if items is None:
            item_codes, item_index = pd.factorize(item_ids)
        else:
            item_index = pd.Index(items.astype(str)).unique()
            item_codes = item_index.get_indexer(item_ids)
            known = item_codes >= 0
            events, times, user_codes, item_codes = (
                events[known],
                times[known],
                user_codes[known],
                item_codes[known],
            )
            if events.empty:
                raise InputError("no event names a product of the catalog")
        if Columns.EVENT in events.columns:
            weight = events[Columns.EVENT].astype(str).map(weights).fillna(1.0).to_numpy()
        else:
            weight = np.ones(len(events))
        day = (times - EPOCH).dt.total_seconds().to_numpy() / SECONDS_PER_DAY
        price = (
            events[Columns.PRICE].to_numpy(dtype=np.float64)
            if Columns.PRICE in events.columns
            else np.full(len(events), np.nan)
        )
        qty = (
            events[Columns.QTY].to_numpy(dtype=np.float64)
            if Columns.QTY in events.columns
            else np.ones(len(events))
        )
        return cls(
            users=pd.Index(users),
            items=pd.Index(item_index),
            user=np.asarray(user_codes, dtype=np.int32),
            item=np.asarray(item_codes, dtype=np.int32),
            day=day,
            weight=weight.astype(np.float32),
            price=price.astype(np.float32),
            qty=qty.astype(np.float32),
            now=float(day.max()),
        )

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return len(self.user)

    def select(self, mask: np.ndarray) -> Self:
        """A subset of events with the same codes; `now` becomes the subset's last moment."""
        day = self.day[mask]
        return replace(
            self,
            user=self.user[mask],
            item=self.item[mask],
            day=day,
            weight=self.weight[mask],
            price=self.price[mask],
            qty=self.qty[mask],
            now=float(day.max()) if len(day) else self.now,
        )

    def before(self, cut_day: float) -> Self:
        """Events strictly before the cut; `now` is the cut itself."""
        return replace(self.select(self.day < cut_day), now=cut_day)

    def since(self, cut_day: float) -> Self:
        return self.select(self.day >= cut_day)

    def matrix(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """Users × items, duplicate events summed (`values` default: the event weights)."""
        data = self.weight if values is None else values
        return sp.csr_matrix(
            (data.astype(np.float32), (self.user, self.item)), shape=(self.n_users, self.n_items)
        )

    def decayed_matrix(self, half_life_days: float) -> sp.csr_matrix:
        """Users × items with each event's weight halved every `half_life_days` back from `now`."""
        return self.matrix(self.weight * np.exp2(-(self.now - self.day) / half_life_days))

    def active_users(self) -> np.ndarray:
        return np.unique(self.user)


def top_n_per_row(scores: sp.spmatrix, n: int, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Each row's `n` best non-zero columns: frame of user, item, score, rank (1 = best).

    `rows` restricts to those rows (codes), kept in the result under their own code.
    """
    matrix = sp.csr_matrix(scores)
    if rows is not None:
        matrix = matrix[rows]
    coo = matrix.tocoo()
    keep = coo.data > 0
    row, col, data = coo.row[keep], coo.col[keep], coo.data[keep]
    order = np.lexsort((col, -data, row))
    row, col, data = row[order], col[order], data[order]
    starts = np.r_[0, np.flatnonzero(np.diff(row)) + 1]
    counts = np.diff(np.r_[starts, len(row)])
    rank = np.arange(len(row)) - np.repeat(starts, counts) + 1
    best = rank <= n
    user = row[best] if rows is None else np.asarray(rows)[row[best]]
    return pd.DataFrame(
        {
            Columns.USER: user.astype(np.int32),
            Columns.ITEM: col[best].astype(np.int32),
            "score": data[best].astype(np.float32),
            "rank": rank[best].astype(np.int32),
        }
    )
