"""Time splits of the design doc: global 90 / 10, and local 80 / 20 inside global train.

A split cuts at a quantile of event time: everything strictly before the cut is train, the rest
validation, so no training set ever holds an event from its validation period.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vitrina_shared.schema import Columns
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.interactions import SECONDS_PER_DAY, text_codes, to_days

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


def cut_time(events: pd.DataFrame, train_share: float, min_users: int = MIN_USERS) -> pd.Timestamp:
    """The `train_share` quantile of event time, after checking the data can be cut there."""
    if not 0 < train_share < 1:
        raise SplitError(f"train share must be between 0 and 1, got {train_share}")
    codes, _ = text_codes(events[Columns.USER])
    identified = codes >= 0
    if not identified.any():
        raise SplitError("no events with a customer id: nothing to split")
    times = pd.Series(to_days(events[Columns.DATETIME])[identified])
    codes = codes[identified]
    if np.floor(times).nunique() < 2:
        day = pd.Timestamp(times.min() * SECONDS_PER_DAY, unit="s", tz="UTC")
        raise SplitError(
            f"all {len(times):,} events fall on one day ({day:%Y-%m-%d}): "
            "a split by time needs at least two days of data"
        )
    users = len(np.unique(codes))
    if users < min_users:
        raise SplitError(f"only {users} customer(s) in the data: need at least {min_users}")
    moments = pd.to_datetime(events[Columns.DATETIME], utc=True)[identified]
    cut = moments.quantile(train_share)
    before = (moments < cut).to_numpy()
    if not before.any() or before.all():
        raise SplitError(f"cutting at {cut} leaves one side empty: too few distinct event times")
    if len(np.intersect1d(codes[before], codes[~before])) == 0:
        raise SplitError(
            f"no customer has events both before and after {cut:%Y-%m-%d %H:%M}: "
            "nothing to validate on"
        )
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


def local_split(global_train: pd.DataFrame) -> TimeSplit:
    """Local train / local validation inside global train: the ranker learns across this cut."""
    return split_by_time(global_train, LOCAL_TRAIN_SHARE)
