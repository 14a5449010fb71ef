import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from vitrina_shared.schema import Columns
from vitrina_trainer.interactions import InputError, Interactions, to_day, top_n_per_row

START = pd.Timestamp("2024-01-01", tz="UTC")


def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            Columns.USER: ["b", "a", "a", ""],
            Columns.ITEM: ["x", "y", "x", "x"],
            Columns.DATETIME: [START + pd.Timedelta(days=d) for d in (2, 0, 1, 3)],
            Columns.EVENT: ["purchase", "view_item", "add_to_cart", "purchase"],
            Columns.PRICE: [100, 200, 100, 100],
            Columns.QTY: [1, 1, 2, 1],
        }
    )


def test_events_are_encoded_in_time_order_without_guests() -> None:
    data = Interactions.from_events(events())
    assert list(data.users) == ["b", "a"]
    assert list(data.items) == ["x", "y"]
    assert data.users[data.user].tolist() == ["a", "a", "b"]
    assert data.items[data.item].tolist() == ["y", "x", "x"]
    assert data.weight.tolist() == [1.0, 2.0, 4.0]
    assert data.now == to_day(START + pd.Timedelta(days=2))
    assert data.matrix().toarray().tolist() == [[4.0, 0.0], [2.0, 1.0]]


def test_categorical_ids_are_encoded_like_strings() -> None:
    frame = events().astype(
        {Columns.USER: "category", Columns.ITEM: "category", Columns.EVENT: "category"}
    )
    data = Interactions.from_events(frame)
    assert data.users[data.user].tolist() == ["a", "a", "b"]
    assert data.items[data.item].tolist() == ["y", "x", "x"]
    assert data.weight.tolist() == [1.0, 2.0, 4.0]


def test_decay_halves_weight_each_half_life() -> None:
    data = Interactions.from_events(events())
    assert np.allclose(data.decayed_matrix(1.0).toarray(), [[4.0, 0.0], [1.0, 0.25]])


def test_catalog_restricts_items() -> None:
    data = Interactions.from_events(events(), items=pd.Index(["x", "z"]))
    assert list(data.items) == ["x", "z"]
    assert len(data) == 2


def test_time_slices_keep_codes() -> None:
    data = Interactions.from_events(events())
    early = data.before(to_day(START + pd.Timedelta(days=1)))
    assert early.users[early.user].tolist() == ["a"]
    assert early.now == to_day(START + pd.Timedelta(days=1))
    assert list(early.items) == list(data.items)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (events().drop(columns=Columns.DATETIME), "lack the column"),
        (events().assign(**{Columns.USER: ""}), "no events with a customer id"),
    ],
)
def test_unusable_events_are_clear_errors(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Interactions.from_events(frame)


def test_catalog_without_any_event_item_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="no event names a product of the catalog"):
        Interactions.from_events(events(), items=pd.Index(["q"]))


def test_top_n_per_row_ranks_and_breaks_ties_by_column() -> None:
    scores = sp.csr_matrix([[0.0, 3.0, 1.0, 3.0], [0.0, 0.0, 0.0, 0.0], [5.0, 0.0, 0.0, 0.0]])
    top = top_n_per_row(scores, 2)
    assert top.to_dict("list") == {
        Columns.USER: [0, 0, 2],
        Columns.ITEM: [1, 3, 0],
        "score": [3.0, 3.0, 5.0],
        "rank": [1, 2, 1],
    }
    only = top_n_per_row(scores, 1, rows=np.array([2]))
    assert only[Columns.USER].tolist() == [2]
