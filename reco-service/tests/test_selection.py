import pytest

from vitrina_reco.selection import select, select_or_fallback
from vitrina_shared.redis_layout import Ranking

OWN = Ranking(["a", "b", "c"], [3.0, 2.0, 1.0])
TOPUP = Ranking(["c", "x", "y"], [9.0, 8.0, 7.0])


def test_takes_the_first_k():
    assert select(OWN, 2, frozenset()) == ([("a", 3.0), ("b", 2.0)], 0)


def test_skips_excluded_and_tops_up_without_duplicates():
    assert select(OWN, 3, {"b"}, TOPUP) == ([("a", 3.0), ("c", 1.0), ("x", 8.0)], 1)


def test_excluded_items_stay_out_of_the_topup():
    assert select(OWN, 4, {"a", "x"}, TOPUP) == ([("b", 2.0), ("c", 1.0), ("y", 7.0)], 1)


def test_returns_fewer_when_nothing_is_left():
    assert select(OWN, 5, {"a"}) == ([("b", 2.0), ("c", 1.0)], 0)


def test_duplicates_in_a_stored_list_are_served_once():
    assert select(Ranking(["a", "a", "b"], [3.0, 2.0, 1.0]), 3, set()) == (
        [("a", 3.0), ("b", 1.0)],
        0,
    )


def test_own_list_is_topped_up_from_the_fallback():
    assert select_or_fallback(OWN, "personal", ("popular", TOPUP), 4, {"a"}) == (
        "personal",
        [("b", 2.0), ("c", 1.0), ("x", 8.0), ("y", 7.0)],
        2,
    )


def test_without_an_own_list_the_fallback_answers_alone():
    assert select_or_fallback(None, "personal", ("popular", TOPUP), 2, {"c"}) == (
        "popular",
        [("x", 8.0), ("y", 7.0)],
        0,
    )


def test_neither_list_is_none():
    assert select_or_fallback(None, "similar", None, 2, set()) is None


def test_duplicates_in_the_topup_are_served_once():
    topup = Ranking(["x", "x", "y"], [9.0, 8.0, 7.0])
    assert select(OWN, 5, {"a", "b", "c"}, topup) == ([("x", 9.0), ("y", 7.0)], 2)


def test_a_ranking_with_more_items_than_scores_is_refused_not_cut():
    """`decode_ranking` never builds one; should one appear, nothing is served silently."""
    uneven = Ranking(["a", "b"], [1.0])
    with pytest.raises(ValueError, match="zip"):
        select(uneven, 5, set())
    with pytest.raises(ValueError, match="zip"):
        select(OWN, 5, set(), uneven)


def test_k_cuts_both_the_own_list_and_the_fallback_alone():
    assert select_or_fallback(OWN, "personal", ("popular", TOPUP), 1, set()) == (
        "personal",
        [("a", 3.0)],
        0,
    )
    assert select_or_fallback(None, "personal", ("popular", TOPUP), 1, set()) == (
        "popular",
        [("c", 9.0)],
        0,
    )


def test_an_own_list_without_a_fallback_is_served_alone():
    assert select_or_fallback(OWN, "similar", None, 5, {"b"}) == (
        "similar",
        [("a", 3.0), ("c", 1.0)],
        0,
    )
