import math

import pandas as pd
import pytest

from vitrina_shared.schema import Columns
from vitrina_trainer.metrics import money_precision, ranking_metrics, sanity_checks


def reco_frame(lists: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(u, item, r) for u, items in lists.items() for r, item in enumerate(items, 1)]
    return pd.DataFrame(rows, columns=[Columns.USER, Columns.ITEM, "rank"])


def pairs(lists: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(u, item) for u, items in lists.items() for item in items]
    return pd.DataFrame(rows, columns=[Columns.USER, Columns.ITEM])


RECO = reco_frame({"u1": ["a", "b", "c"], "u2": ["c", "d", "e"]})
TRUTH = pairs({"u1": ["b"], "u2": ["c", "e", "f"]})
HISTORY = pairs({"u1": ["a"], "u2": ["a", "b"], "u3": ["a", "c"]})
PRICES = pd.Series({"a": 100.0, "b": 300.0, "c": 200.0, "d": 100.0, "e": 700.0, "f": 50.0})


def test_ranking_metrics_against_hand_computed_values() -> None:
    result = ranking_metrics(RECO, TRUTH, HISTORY, list("abcdefgh"), PRICES, k=3)
    # u1: hit at rank 2; u2: hits at ranks 1 and 3 of 3 relevant. RecTools' NDCG (the
    # reference numbers' metric) divides by the DCG of k hits, whatever the relevant count.
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    dcg1, dcg2 = 1 / math.log2(3), 1 + 1 / math.log2(4)
    assert result["ndcg@3"] == pytest.approx((dcg1 / idcg + dcg2 / idcg) / 2)
    assert result["precision@3"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    assert result["recall@3"] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert result["map@3"] == pytest.approx(((1 / 2) / 1 + (1 + 2 / 3) / 3) / 2)
    assert result["catalog_coverage@3"] == pytest.approx(5 / 8)
    assert result["money_precision@3"] == pytest.approx((300 / 600 + 900 / 1000) / 2)
    assert 0 < result["serendipity@3"] < result["precision@3"]


def test_money_precision_weighs_hits_by_price() -> None:
    assert money_precision(RECO, TRUTH, PRICES, k=1) == pytest.approx((0 + 1) / 2)
    assert money_precision(RECO, TRUTH, PRICES, k=2) == pytest.approx((300 / 400 + 200 / 300) / 2)


def test_money_precision_counts_users_without_a_list_as_zero() -> None:
    truth = pd.concat([TRUTH, pairs({"u9": ["a"]})])
    assert money_precision(RECO, truth, PRICES, k=3) == pytest.approx((0.5 + 0.9 + 0) / 3)


def test_money_precision_of_nobody_is_nan() -> None:
    assert math.isnan(money_precision(RECO, TRUTH.iloc[:0], PRICES))


def test_sanity_checks_catch_each_fault() -> None:
    good = sanity_checks(RECO, ["u1", "u2"], list("abcde"), k=3)
    assert good == {
        "no_duplicates": True,
        "only_catalog_items": True,
        "k_items_for_every_user": True,
    }
    bad = reco_frame({"u1": ["a", "a", "z"]})
    assert sanity_checks(bad, ["u1", "u2"], list("abcde"), k=3) == {
        "no_duplicates": False,
        "only_catalog_items": False,
        "k_items_for_every_user": False,
    }
