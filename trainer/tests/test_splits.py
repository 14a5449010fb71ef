import pandas as pd
import pytest

from vitrina_shared.schema import Columns
from vitrina_trainer.interactions import Interactions, from_day, to_day
from vitrina_trainer.splits import (
    LOCAL_TRAIN_SHARE,
    SplitError,
    global_split,
    local_split,
    split_by_time,
)

START = pd.Timestamp("2024-01-01", tz="UTC")


def grid(users: int, days: int) -> pd.DataFrame:
    """Every customer buys one product every day at midnight."""
    return pd.DataFrame(
        {
            Columns.USER: [f"u{u}" for d in range(days) for u in range(users)],
            Columns.ITEM: [f"p{d}" for d in range(days) for _ in range(users)],
            Columns.DATETIME: [
                START + pd.Timedelta(days=d) for d in range(days) for _ in range(users)
            ],
        }
    )


def test_global_split_cuts_at_the_90_percent_quantile_of_time() -> None:
    split = global_split(grid(users=10, days=10))
    # 100 sorted times; quantile 0.9 sits at position 89.1: a tenth of the way into day 9.
    assert split.cut == START + pd.Timedelta(days=8, hours=2.4)
    assert len(split.train) == 90
    assert len(split.validation) == 10
    assert (
        split.train[Columns.DATETIME].max() < split.cut <= split.validation[Columns.DATETIME].min()
    )
    assert len(split.users_on_both_sides) == 10


def test_local_split_stays_inside_global_train() -> None:
    split = global_split(grid(users=10, days=10))
    local = local_split(Interactions.from_events(split.train))
    # 90 sorted times over days 0–8; quantile 0.8 sits at position 71.2, among day 7's ten
    # events: the cut is day 7's midnight, and day 7 is validation.
    assert from_day(local.cut_day) == START + pd.Timedelta(days=7)
    assert local.train.day.max() < local.cut_day <= local.validation.day.min()
    assert local.train.now == local.cut_day
    assert local.validation.day.max() < to_day(split.cut)
    assert (len(local.train), len(local.validation)) == (70, 20)


def test_local_split_cuts_where_the_frame_split_cuts(shop_events: pd.DataFrame) -> None:
    train = global_split(shop_events).train
    local = local_split(Interactions.from_events(train))
    by_frame = split_by_time(train, LOCAL_TRAIN_SHARE)
    assert (len(local.train), len(local.validation)) == (
        len(by_frame.train),
        len(by_frame.validation),
    )


def test_no_training_set_holds_a_future_event(shop_events: pd.DataFrame) -> None:
    split = global_split(shop_events)
    local = local_split(Interactions.from_events(split.train))
    assert split.train[Columns.DATETIME].max() < split.validation[Columns.DATETIME].min()
    assert local.train.day.max() < local.validation.day.min()
    assert local.validation.day.max() < to_day(split.validation[Columns.DATETIME].min())


def test_guest_events_are_left_out() -> None:
    events = grid(users=10, days=10)
    events.loc[0, Columns.USER] = ""
    events.loc[1, Columns.USER] = None
    split = global_split(events)
    assert len(split.train) + len(split.validation) == 98


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (grid(users=10, days=10).iloc[:0], "no events with a customer id"),
        (grid(users=10, days=10).assign(**{Columns.USER: ""}), "no events with a customer id"),
        (grid(users=20, days=1), "at one moment"),
        (grid(users=3, days=10), "only 3 customer"),
    ],
)
def test_too_little_data_is_a_clear_error(events: pd.DataFrame, message: str) -> None:
    with pytest.raises(SplitError, match=message):
        global_split(events)


def test_no_customer_on_both_sides_is_a_clear_error() -> None:
    events = grid(users=10, days=10)
    late = events[Columns.DATETIME] >= START + pd.Timedelta(days=9)
    events.loc[late, Columns.USER] = "newcomer-" + events.loc[late, Columns.USER]
    with pytest.raises(SplitError, match="no customer has events both before and after"):
        global_split(events)


def test_train_share_must_be_a_fraction() -> None:
    with pytest.raises(SplitError, match="between 0 and 1"):
        split_by_time(grid(users=10, days=10), 1.5)


def test_too_little_encoded_data_to_cut_is_a_clear_error() -> None:
    with pytest.raises(SplitError, match="only 3 customer"):
        local_split(Interactions.from_events(grid(users=3, days=10)))
    with pytest.raises(SplitError, match="at one moment"):
        local_split(Interactions.from_events(grid(users=20, days=1)))


def test_a_short_export_is_cut_by_event_time() -> None:
    """Ten customers, one product an hour for ten hours of one day: cut at the 0.9 quantile."""
    events = grid(users=10, days=10)
    events[Columns.DATETIME] = START + (events[Columns.DATETIME] - START) / 24
    split = global_split(events)
    assert split.cut == START + pd.Timedelta(hours=8.1)
    assert len(split.train) == 90
    assert len(split.validation) == 10
    local = local_split(Interactions.from_events(split.train))
    assert from_day(local.cut_day) == START + pd.Timedelta(hours=7)
