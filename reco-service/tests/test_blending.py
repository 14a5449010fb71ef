"""The blend on tiny hand-made inputs, with the exact answers worked out by hand (default weights.

Daily 1, own 1, similar 0.5, view 1, cart 1.5, purchase 1, decay 0.8).
"""

from vitrina_reco.blending import Blended, Event, blend
from vitrina_shared.redis_layout import Ranking

DAILY = Ranking(["a", "b", "c"], [9.0, 8.0, 7.0])


def test_no_events_is_the_stored_list_as_stored():
    assert blend(DAILY, [], {}, 2, {"a"}) == [Blended("b", 8.0, None), Blended("c", 7.0, None)]


def test_a_view_adds_the_product_and_its_similar_ones():
    # a 1; x 1 (viewed); c 1/3 + 0.5 (first similar of x); b 1/2; d 0.5/2.
    got = blend(DAILY, [Event("x", "view_item", 10)], {"x": Ranking(["c", "d"], [1.0, 0.5])}, 10)
    assert got == [
        Blended("a", 1.0, None),
        Blended("x", 1.0, "viewed_today:x"),
        Blended("c", 0.833333, "similar_to:x"),
        Blended("b", 0.5, None),
        Blended("d", 0.25, "similar_to:x"),
    ]


def test_older_events_weigh_less_and_carts_more():
    events = [
        Event("y", "add_to_cart", 20),
        Event("y", "view_item", 10),
        Event("z", "view_item", 5),
    ]
    # y: 1.5 + 0.8; z: 0.64.
    assert blend(None, events, {}, 10) == [
        Blended("y", 2.3, "viewed_today:y"),
        Blended("z", 0.64, "viewed_today:z"),
    ]


def test_a_product_just_bought_is_not_pushed_unless_a_repeat_buy():
    daily = Ranking(["a", "b"], [9.0, 8.0], bought=["b"])
    events = [Event("z", "purchase", 20), Event("b", "purchase", 10)]
    similar = {"z": Ranking(["q", "z"], [1.0, 0.9])}
    # z bought now, not a repeat: gone (also from z's own similar list); b a repeat: kept.
    # q: 0.5 × 1 / 1; b: its daily 1/2 (a purchase adds nothing to itself).
    assert blend(daily, events, similar, 10) == [
        Blended("a", 1.0, None),
        Blended("b", 0.5, None),
        Blended("q", 0.5, "similar_to:z"),
    ]


def test_k_and_exclude_apply_to_the_blend():
    got = blend(DAILY, [Event("x", "view_item", 1)], {}, 2, exclude={"a"})
    assert got == [Blended("x", 1.0, "viewed_today:x"), Blended("b", 0.5, None)]
