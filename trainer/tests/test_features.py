import numpy as np
import pandas as pd
import pytest

from vitrina_shared.schema import Columns
from vitrina_trainer.features import FeatureBuilder
from vitrina_trainer.interactions import Interactions

START = pd.Timestamp("2024-01-01", tz="UTC")

EVENTS = pd.DataFrame(
    {
        Columns.USER: ["u", "u", "v", "u"],
        Columns.ITEM: ["a", "b", "a", "a"],
        Columns.DATETIME: [START + pd.Timedelta(days=d) for d in (0, 1, 2, 4)],
        Columns.EVENT: "purchase",
        Columns.PRICE: [100, 300, 100, 100],
        Columns.QTY: [1, 2, 3, 1],
    }
)


@pytest.fixture
def features() -> pd.DataFrame:
    data = Interactions.from_events(EVENTS)
    candidates = pd.DataFrame({Columns.USER: [0, 0, 1], Columns.ITEM: [0, 1, 1]})  # u-a, u-b, v-b
    return FeatureBuilder(pair_half_life_days=4).fit(data, np.array([0, 1])).transform(candidates)


def test_pair_features_count_and_date_the_history(features: pd.DataFrame) -> None:
    ua, ub, vb = features.to_dict("records")
    assert (ua["pair_events"], ua["pair_days"], ua["pair_qty"]) == (2, 2, 2)
    assert (ua["pair_last_days"], ua["pair_first_days"]) == (0, 4)
    assert ua["pair_decayed"] == pytest.approx(4 * (1 + 0.5))
    assert ua["pair_cycle_ratio"] == 0.0
    assert (ub["pair_events"], ub["pair_last_days"]) == (1, 3)
    assert np.isnan(ub["pair_cycle_ratio"])
    assert vb["pair_events"] == 0
    assert np.isnan(vb["pair_last_days"])


def test_user_and_item_features(features: pd.DataFrame) -> None:
    ua, ub, vb = features.to_dict("records")
    assert (ua["user_events"], ua["user_items"], ua["user_days"]) == (3, 2, 3)
    assert ua["user_repeat_share"] == pytest.approx(0.5)
    assert ua["user_price"] == 100
    assert (ua["item_events"], ua["item_users"], ua["item_repeat_share"]) == (3, 2, 0.5)
    assert (ua["item_events_7d"], ua["item_events_30d"]) == (3, 3)
    assert ub["price_ratio"] == 3.0
    assert vb["price_ratio"] == 3.0
    assert (ub["item_last_days"], ub["item_first_days"]) == (3, 3)


def test_new_buyers_of_a_product_and_new_products_of_a_user() -> None:
    """Now is day 40: u came to a on day 0 and to b on day 35, v to a on day 38, w on day 40."""
    events = pd.DataFrame(
        {
            Columns.USER: ["u", "u", "u", "v", "w"],
            Columns.ITEM: ["a", "b", "a", "a", "a"],
            Columns.DATETIME: [START + pd.Timedelta(days=d) for d in (0, 35, 39, 38, 40)],
        }
    )
    data = Interactions.from_events(events)
    candidates = pd.DataFrame({Columns.USER: [0, 1], Columns.ITEM: [0, 1]})  # u-a, v-b
    ua, vb = FeatureBuilder().fit(data).transform(candidates).to_dict("records")
    assert (ua["item_new_users_7d"], ua["item_new_users_30d"]) == (2, 2)  # v and w
    assert (vb["item_new_users_7d"], vb["item_new_users_30d"]) == (1, 1)  # u
    assert (ua["user_new_items_7d"], ua["user_new_items_30d"]) == (1, 1)  # b
    assert (vb["user_new_items_7d"], vb["user_new_items_30d"]) == (1, 1)  # a


def test_category_affinity_is_the_users_share_of_events(features: pd.DataFrame) -> None:
    assert features["category_share"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
