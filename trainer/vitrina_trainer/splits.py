"""Time splits of the design doc: global 90 / 10, and local 80 / 20 inside global train.

A split cuts at a quantile of event time (not at a date boundary): everything strictly before the
cut is train, the rest validation, so no training set ever holds an event from its validation
period. A short export (hours of one day, like rees46-sample) is cut the same way. The global split
cuts the event frame (the evaluation scores frames); the local one cuts `Interactions`, already
encoded, inside the recommender's fit.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vitrina_shared.schema import Columns
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.interactions import Interactions, from_day, text_codes, to_day, to_days

GLOBAL_TRAIN_SHARE = 0.9
LOCAL_TRAIN_SHARE = 0.8
MIN_USERS = 10


class SplitError(TrainerError):
    """Too little data to cut in time: the message says what is missing."""


@dataclass(frozen=True)
class TimeSplit:
    train: pd.DataFrame
    validation: pd.DataFrame
    cut: pd.Timestamp

    @property
    def users_on_both_sides(self) -> pd.Index:
        """Customers seen before and after the cut: the ones a validation can score."""
        return pd.Index(self.train[Columns.USER].unique()).intersection(
            pd.Index(self.validation[Columns.USER].unique())
        )


def with_user_id(events: pd.DataFrame) -> pd.DataFrame:
    """Events of identified customers (guest rows have an empty or missing id)."""
    codes, _ = text_codes(events[Columns.USER])
    return events if (codes >= 0).all() else events[codes >= 0]


def _check_cut(days: np.ndarray, users: np.ndarray, cut_day: float, min_users: int) -> None:
    """Refuse a cut that leaves nothing to learn or to validate on (identified events only)."""
    if len(days) and days.min() == days.max():
        raise SplitError(
            f"all {len(days):,} events happen at one moment ({from_day(days.min())}): "
            "a split by time needs events at two different times at least"
        )
    count = len(np.unique(users))
    if count < min_users:
        raise SplitError(f"only {count} customer(s) in the data: need at least {min_users}")
    before = days < cut_day
    cut = from_day(cut_day)
    if not before.any() or before.all():
        raise SplitError(f"cutting at {cut} leaves one side empty: too few distinct event times")
    if len(np.intersect1d(users[before], users[~before])) == 0:
        raise SplitError(
            f"no customer has events both before and after {cut:%Y-%m-%d %H:%M}: "
            "nothing to validate on"
        )


def _check_share(train_share: float) -> None:
    if not 0 < train_share < 1:
        raise SplitError(f"train share must be between 0 and 1, got {train_share}")


def cut_time(events: pd.DataFrame, train_share: float, min_users: int = MIN_USERS) -> pd.Timestamp:
    """The `train_share` quantile of event time, after checking the data can be cut there."""
    _check_share(train_share)
    codes, _ = text_codes(events[Columns.USER])
    identified = codes >= 0
    if not identified.any():
        raise SplitError("no events with a customer id: nothing to split")
    moments = pd.to_datetime(events[Columns.DATETIME], utc=True)[identified]
    cut = moments.quantile(train_share)
    _check_cut(to_days(moments), codes[identified], to_day(cut), min_users)
    return cut


def split_by_time(
    events: pd.DataFrame, train_share: float, min_users: int = MIN_USERS
) -> TimeSplit:
    cut = cut_time(events, train_share, min_users)
    events = with_user_id(events)
    before = pd.to_datetime(events[Columns.DATETIME], utc=True) < cut
    return TimeSplit(train=events[before], validation=events[~before], cut=cut)


def global_split(events: pd.DataFrame) -> TimeSplit:
    """Global train / global validation: the final numbers are measured on the validation."""
    return split_by_time(events, GLOBAL_TRAIN_SHARE)


@dataclass(frozen=True)
class InteractionsSplit:
    """Encoded events cut in time; both sides keep the codes of the whole."""

    train: Interactions
    validation: Interactions
    cut_day: float


def local_split(
    global_train: Interactions, train_share: float = LOCAL_TRAIN_SHARE, min_users: int = MIN_USERS
) -> InteractionsSplit:
    """Local train / local validation inside global train: the ranker learns across this cut.

    Cut on the encoded events the model learns from, at the same quantile of time as
    `split_by_time`; the train side's `now` is the cut.
    """
    _check_share(train_share)
    cut_day = float(np.quantile(global_train.day, train_share))
    _check_cut(global_train.day, global_train.user, cut_day, min_users)
    return InteractionsSplit(global_train.before(cut_day), global_train.since(cut_day), cut_day)
