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
# `Interactions.kind`: how far each event went. Events without a type count as purchases (an
# export of orders); an unknown type as a view.
VIEW, CART, PURCHASE = 0, 1, 2
KINDS = {EventType.VIEW.value: VIEW, EventType.CART.value: CART, EventType.PURCHASE.value: PURCHASE}


def to_day(moment: pd.Timestamp) -> float:
    """A moment as days since the epoch: the time axis of `Interactions`."""
    return (pd.Timestamp(moment).tz_convert("UTC") - EPOCH).total_seconds() / SECONDS_PER_DAY


def from_day(day: float) -> pd.Timestamp:
    """Days since the epoch back to a moment (to the microsecond), for messages."""
    return pd.Timestamp(round(day * SECONDS_PER_DAY * 1e6), unit="us", tz="UTC")


def to_days(times: pd.Series) -> np.ndarray:
    """Event times as days since the epoch (float64)."""
    moments = pd.to_datetime(times, utc=True)
    return (moments - EPOCH).dt.total_seconds().to_numpy() / SECONDS_PER_DAY


def text_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes into an index of non-empty strings; −1 for a missing or empty value.

    Works on the categories of a categorical column (the reader's ids), so millions of rows
    never become Python strings.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int64)
        names = pd.Index(column.cat.categories.astype(str))
    else:
        codes, names = pd.factorize(column.astype("string"), use_na_sentinel=True)
        codes = codes.astype(np.int64)
        names = pd.Index(names.astype(str))
    blank = np.flatnonzero(names == "")
    if len(blank):
        codes[np.isin(codes, blank)] = -1
    return codes, names


class InputError(TrainerError):
    """The event frame cannot be used: empty, or missing the reader's columns."""


@dataclass(frozen=True)
class Interactions:
    """Parallel arrays over events (sorted by time), plus the id ↔ code indexes.

    `day` is event time in days since the epoch (float), `now` the moment the data ends: every
    recency in the model is counted back from it. `kind`: VIEW, CART or PURCHASE per event.
    """

    users: pd.Index
    items: pd.Index
    user: np.ndarray
    item: np.ndarray
    day: np.ndarray
    weight: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    kind: np.ndarray
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
        user_codes, users = text_codes(events[Columns.USER])
        item_codes, item_index = text_codes(events[Columns.ITEM])
        keep = user_codes >= 0
        if not keep.any():
            raise InputError("no events with a customer id: nothing to learn from")
        if items is not None:
            catalog = pd.Index(items.astype(str)).unique()
            item_codes = np.where(item_codes >= 0, catalog.get_indexer(item_index)[item_codes], -1)
            item_index = catalog
        keep &= item_codes >= 0
        if not keep.any():
            raise InputError("no event names a product of the catalog")
        day = to_days(events[Columns.DATETIME])
        if Columns.EVENT in events.columns:
            event_codes, event_names = text_codes(events[Columns.EVENT])
            by_name = (event_weights or DEFAULT_EVENT_WEIGHTS).get
            known = np.array([by_name(name, 1.0) for name in event_names] + [1.0])
            weight = known[event_codes]  # code −1 (missing) takes the last entry, 1.0
            kinds = np.array([KINDS.get(name, VIEW) for name in event_names] + [VIEW], np.int8)
            kind = kinds[event_codes]
        else:
            weight = np.ones(len(events))
            kind = np.full(len(events), PURCHASE, np.int8)
        price = (
            events[Columns.PRICE].to_numpy(dtype=np.float64, na_value=np.nan)
            if Columns.PRICE in events.columns
            else np.full(len(events), np.nan)
        )
        qty = (
            events[Columns.QTY].to_numpy(dtype=np.float64, na_value=1.0)
            if Columns.QTY in events.columns
            else np.ones(len(events))
        )
        rows = np.flatnonzero(keep)
        rows = rows[np.argsort(day[rows], kind="stable")]
        used_users, user_codes = np.unique(user_codes[rows], return_inverse=True)
        if items is None:
            used_items, item_codes = np.unique(item_codes[rows], return_inverse=True)
            item_index = item_index[used_items]
        else:
            item_codes = item_codes[rows]
        return cls(
            users=pd.Index(users[used_users]),
            items=pd.Index(item_index),
            user=user_codes.astype(np.int32),
            item=item_codes.astype(np.int32),
            day=day[rows],
            weight=weight[rows].astype(np.float32),
            price=price[rows].astype(np.float32),
            qty=qty[rows].astype(np.float32),
            kind=kind[rows],
            now=float(day[rows].max()),
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
            kind=self.kind[mask],
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

    def pair_keys(self, kinds: tuple[int, ...] = (VIEW, CART, PURCHASE)) -> np.ndarray:
        """Sorted distinct user × n_items + item keys of the events of the given kinds."""
        chosen = np.isin(self.kind, kinds)
        return np.unique(self.user[chosen].astype(np.int64) * self.n_items + self.item[chosen])

    def active_users(self) -> np.ndarray:
        return np.unique(self.user)

    def decode(self, ranking: pd.DataFrame) -> pd.DataFrame:
        """A ranking on codes (user, item, rank) with the ids put back."""
        return pd.DataFrame(
            {
                Columns.USER: self.users.to_numpy()[ranking[Columns.USER].to_numpy()],
                Columns.ITEM: self.items.to_numpy()[ranking[Columns.ITEM].to_numpy()],
                Columns.RANK: ranking[Columns.RANK].to_numpy(),
            }
        )


def rank_within_groups(groups: np.ndarray) -> np.ndarray:
    """1, 2, 3… within each run of equal values (e.g. a sorted array of user codes)."""
    if len(groups) == 0:
        return np.array([], np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)])) + 1


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
    rank = rank_within_groups(row)
    best = rank <= n
    user = row[best] if rows is None else np.asarray(rows)[row[best]]
    return pd.DataFrame(
        {
            Columns.USER: user.astype(np.int32),
            Columns.ITEM: col[best].astype(np.int32),
            Columns.SCORE: data[best].astype(np.float32),
            Columns.RANK: rank[best].astype(np.int32),
        }
    )
