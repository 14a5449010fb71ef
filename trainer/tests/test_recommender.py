import numpy as np
import pandas as pd
import pytest

from vitrina_shared.schema import Columns
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.interactions import Interactions
from vitrina_trainer.recommender import (
    ALSConfig,
    LightFMConfig,
    NotFittedError,
    RankerConfig,
    RecommenderConfig,
    TwoStageRecommender,
    discovery_labels,
)

FAST = RecommenderConfig(
    threads=1,
    als=ALSConfig(iterations=3, factors=8),
    lightfm=LightFMConfig(epochs=2, factors=8),
    ranker=RankerConfig(trees=20),
)


@pytest.fixture(scope="module")
def model(shop_events: pd.DataFrame) -> TwoStageRecommender:
    return TwoStageRecommender(FAST).fit(shop_events)


def test_recommend_gives_k_distinct_known_items_per_user(model: TwoStageRecommender) -> None:
    reco = model.recommend(["u1", "u2", "stranger"], k=5)
    assert list(reco.columns) == [Columns.USER, Columns.ITEM, "score", "rank"]
    assert reco.groupby(Columns.USER).size().to_dict() == {"u1": 5, "u2": 5, "stranger": 5}
    assert not reco.duplicated([Columns.USER, Columns.ITEM]).any()
    assert set(reco[Columns.ITEM]) <= set(model.diagnostics().data.items)
    assert (
        reco.groupby(Columns.USER)["rank"].apply(list)
        == pd.Series([[1, 2, 3, 4, 5]] * 3, index=["stranger", "u1", "u2"])
    ).all()


def test_recommend_can_exclude_seen_items(model: TwoStageRecommender) -> None:
    reco = model.recommend(["u1"], k=5, exclude_seen=True)
    events = model.diagnostics().data
    seen = set(events.items[events.item[events.user == events.users.get_loc("u1")]])
    assert len(reco) == 5
    assert not set(reco[Columns.ITEM]) & seen


def test_similar_popular_and_importance(model: TwoStageRecommender) -> None:
    similar = model.similar_items(3)
    assert list(similar.columns) == [Columns.TARGET_ITEM, Columns.ITEM, "score", "rank"]
    assert (similar[Columns.TARGET_ITEM] != similar[Columns.ITEM]).all()
    assert similar.groupby(Columns.TARGET_ITEM).size().max() == 3
    popular = model.popular(4)
    assert list(popular["rank"]) == [1, 2, 3, 4]
    assert popular["score"].is_monotonic_decreasing
    importance = model.feature_importance()
    assert np.isclose(importance.sum(), 1.0)


def test_unfitted_model_says_so() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        TwoStageRecommender().recommend(["u1"], 3)


def test_unknown_source_is_a_clear_error(shop_events: pd.DataFrame) -> None:
    with pytest.raises(TrainerError, match="unknown candidate source"):
        TwoStageRecommender(RecommenderConfig(sources=("history", "magic"))).fit(shop_events)


def test_short_lists_are_topped_up_with_popular_items(shop_events: pd.DataFrame) -> None:
    only_history = FAST.model_copy(update={"sources": ("history",)})
    model = TwoStageRecommender(only_history).fit(shop_events)
    reco = model.recommend(["u1", "u2"], k=12)
    assert reco.groupby(Columns.USER).size().to_dict() == {"u1": 12, "u2": 12}
    assert not reco.duplicated([Columns.USER, Columns.ITEM]).any()
    for _, group in reco.groupby(Columns.USER):
        assert group["rank"].tolist() == list(range(1, 13))
        assert group["score"].is_monotonic_decreasing
    own = set(shop_events.loc[shop_events[Columns.USER] == "u1", Columns.ITEM])
    u1 = reco[reco[Columns.USER] == "u1"]
    assert set(u1[Columns.ITEM].head(len(own))) == own


def test_catalog_limits_what_is_recommended(shop_events: pd.DataFrame) -> None:
    catalog = pd.DataFrame({Columns.ITEM: [f"p{i}" for i in range(20)], "category": ""})
    model = TwoStageRecommender(FAST).fit(shop_events, catalog)
    reco = model.recommend(["u1", "u5"], k=15)
    assert set(reco[Columns.ITEM]) <= set(catalog[Columns.ITEM])
    assert len(reco) == 30


def test_no_users_no_rows_and_k_must_be_positive(model: TwoStageRecommender) -> None:
    assert model.recommend([], k=5).empty
    assert all(frame.empty for frame in model.recommend_lists([], k=5))
    with pytest.raises(TrainerError, match="k must be at least 1"):
        model.recommend(["u1"], k=0)


@pytest.mark.parametrize(
    ("customers", "message"),
    [([], "no events with a customer id"), (["u1", "u2", "u3"], "only 3 customer")],
    ids=["empty", "tiny"],
)
def test_empty_or_tiny_input_is_a_clear_error(
    shop_events: pd.DataFrame, customers: list[str], message: str
) -> None:
    events = shop_events[shop_events[Columns.USER].isin(customers)]
    with pytest.raises(TrainerError, match=message):
        TwoStageRecommender(FAST).fit(events)


def test_events_without_customer_ids_are_a_clear_error(shop_events: pd.DataFrame) -> None:
    with pytest.raises(TrainerError, match="no events with a customer id"):
        TwoStageRecommender(FAST).fit(shop_events.assign(**{Columns.USER: ""}))


@pytest.mark.parametrize("exclude_seen", [False, True])
def test_recommending_in_chunks_gives_the_same_lists(
    model: TwoStageRecommender, exclude_seen: bool
) -> None:
    users = ["u3", "stranger", "u1", "u7", "u2"]
    whole = model.recommend(users, k=6, exclude_seen=exclude_seen)
    chunked = model.recommend(users, k=6, exclude_seen=exclude_seen, chunk=2)
    assert len(chunked) == 6 * len(users)
    columns = [Columns.USER, "rank", Columns.ITEM]
    pd.testing.assert_frame_equal(
        chunked[columns].sort_values(columns[:2], ignore_index=True),
        whole[columns].sort_values(columns[:2], ignore_index=True),
    )


def test_published_lists_keep_both_orders_with_a_reason_each(
    model: TwoStageRecommender, shop_events: pd.DataFrame
) -> None:
    users = ["u3", "stranger", "u1"]
    lists = model.recommend_lists(users, k=6)
    chunked = model.recommend_lists(users, k=6, chunk=1)
    for frame, again in zip(lists, chunked, strict=True):
        assert list(frame.columns) == [Columns.USER, Columns.ITEM, "score", "rank", "reason"]
        assert frame.groupby(Columns.USER).size().to_dict() == {"u3": 6, "stranger": 6, "u1": 6}
        columns = [Columns.USER, "rank", Columns.ITEM, "reason"]  # fillers' scores are per chunk
        pd.testing.assert_frame_equal(
            frame[columns].sort_values(columns[:2], ignore_index=True),
            again[columns].sort_values(columns[:2], ignore_index=True),
        )
    had = shop_events.groupby(Columns.USER)[Columns.ITEM].apply(set)
    for user in ("u3", "u1"):
        repeat = lists.repeat[lists.repeat[Columns.USER] == user]
        new = lists.discovery[lists.discovery[Columns.USER] == user]
        assert not set(new[Columns.ITEM]) & had[user]
        assert (repeat["reason"] == "bought_before").tolist() == repeat[Columns.ITEM].isin(
            had[user]
        ).tolist()
        assert new["reason"].str.startswith(("similar_to:", "popular")).all()
    stranger = lists.discovery[lists.discovery[Columns.USER] == "stranger"]
    assert (stranger["reason"] == "popular").all()
    pd.testing.assert_frame_equal(
        lists.discovery.drop(columns="reason"),
        model.recommend(users, k=6, discovery=True),
    )


def test_discovery_labels_grade_carts_and_purchases_above_views() -> None:
    events = pd.DataFrame(
        {
            Columns.USER: ["u0", "u0", "u1", "u1"],
            Columns.ITEM: ["a", "b", "a", "c"],
            Columns.EVENT: ["view_item", "purchase", "add_to_cart", "view_item"],
            Columns.DATETIME: pd.Timestamp("2024-01-01", tz="UTC"),
        }
    )
    data = Interactions.from_events(events)  # items a b c
    keys = np.array([0 * 3 + 0, 0 * 3 + 1, 0 * 3 + 2, 1 * 3 + 0, 1 * 3 + 2, 1 * 3 + 1])
    assert discovery_labels(keys, data).tolist() == [1, 2, 0, 2, 1, 0]


def test_a_second_ranker_can_order_the_new_products(shop_events: pd.DataFrame) -> None:
    config = FAST.model_copy(update={"discovery_ranker": RankerConfig(trees=20, leaves=4)})
    model = TwoStageRecommender(config).fit(shop_events)
    assert model.diagnostics().discovery_ranker["customers"] > 0
    reco = model.recommend(["u1", "u2"], k=5, discovery=True)
    had = shop_events.groupby(Columns.USER)[Columns.ITEM].apply(set)
    for user in ("u1", "u2"):
        assert not set(reco.loc[reco[Columns.USER] == user, Columns.ITEM]) & had[user]
    assert TwoStageRecommender(FAST).fit(shop_events).diagnostics().discovery_ranker == {}


def test_a_shard_of_customers_gets_the_lists_of_the_whole_model(
    model: TwoStageRecommender, shop_events: pd.DataFrame
) -> None:
    """What the Spark engine does per partition: the model, told only the shard's events."""
    shard_users = [f"u{n}" for n in range(0, 40, 3)]
    shard = shop_events[shop_events[Columns.USER].isin(shard_users)]
    whole = model.recommend(shard_users, 10)
    alone = model.without_events(threads=1).for_customers(shard).recommend(shard_users, 10)
    pd.testing.assert_frame_equal(alone, whole)


def test_a_shard_without_known_products_gets_the_fallback(
    model: TwoStageRecommender, shop_events: pd.DataFrame
) -> None:
    strangers = shop_events.head(5).assign(**{Columns.ITEM: "never-seen", Columns.USER: "new"})
    lists = model.for_customers(strangers).recommend(["new"], 5)
    assert lists[Columns.ITEM].tolist() == model.popular(5)[Columns.ITEM].tolist()
