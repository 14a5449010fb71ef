import numpy as np
import pandas as pd
import pytest

from vitrina_shared.schema import Columns
from vitrina_trainer.candidates import (
    ALSSource,
    CoVisitSource,
    EASESource,
    HistorySource,
    LightFMSource,
    PopularSource,
    cosine_neighbours,
    top_neighbours,
)
from vitrina_trainer.interactions import Interactions

START = pd.Timestamp("2024-01-01", tz="UTC")


def frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """(user, item, day) purchases."""
    return pd.DataFrame(
        {
            Columns.USER: [r[0] for r in rows],
            Columns.ITEM: [r[1] for r in rows],
            Columns.DATETIME: [START + pd.Timedelta(days=r[2]) for r in rows],
            Columns.EVENT: "purchase",
        }
    )


BASKETS = Interactions.from_events(
    frame(
        [
            ("u0", "a", 0),
            ("u0", "b", 0),
            ("u1", "a", 1),
            ("u1", "b", 1),
            ("u2", "a", 2),
            ("u2", "c", 2),
            ("u3", "c", 4),
        ]
    )
)


def test_history_weighs_frequency_and_recency() -> None:
    data = Interactions.from_events(
        frame([("u", "old", 0), ("u", "old", 0), ("u", "old", 0), ("u", "new", 10)])
    )
    top = HistorySource(half_life_days=10).fit(data).candidates(np.array([0]), 5)
    # old: 3 purchases × 4 × 2^-1 = 6; new: 1 × 4 × 2^0 = 4.
    assert list(data.items[top[Columns.ITEM]]) == ["old", "new"]
    assert top["score"].tolist() == [6.0, 4.0]
    short = HistorySource(half_life_days=2).fit(data).candidates(np.array([0]), 5)
    assert list(data.items[short[Columns.ITEM]]) == ["new", "old"]


def test_cosine_neighbours_by_shared_customers() -> None:
    similar = cosine_neighbours(BASKETS.matrix(), k=2).toarray()
    a, b, c = (BASKETS.items.get_loc(x) for x in "abc")
    assert similar[a, b] == pytest.approx(2 / np.sqrt(3 * 2))
    assert similar[a, c] == pytest.approx(1 / np.sqrt(3 * 2))
    assert similar[b, c] == 0.0
    assert similar[a, a] == 0.0


def test_neighbours_tie_to_the_lower_item_code() -> None:
    """Items 1 and 2 share item 0's customers alike: k = 1 keeps the lower code, in any order."""
    customers = np.array([2.0, 2.0, 2.0])
    target, item, count = np.array([0, 0, 0]), np.array([2, 1, 0]), np.array([1, 1, 2])
    kept = top_neighbours(target, item, count, customers, k=1)
    assert [values.tolist() for values in kept] == [[0], [1], [0.5]]
    assert top_neighbours(target, item[::-1], count[::-1], customers, k=1)[1].tolist() == [1]


def test_cooc_proposes_what_similar_customers_bought() -> None:
    source = CoVisitSource(neighbours=5, profile_items=5).fit(BASKETS)
    u3 = BASKETS.users.get_loc("u3")
    top = source.candidates(np.array([u3]), 5)
    assert list(BASKETS.items[top[Columns.ITEM]]) == ["a"]
    similar = source.similar_items(1)
    assert dict(
        zip(
            BASKETS.items[similar[Columns.TARGET_ITEM]],
            BASKETS.items[similar[Columns.ITEM]],
            strict=True,
        )
    ) == {"a": "b", "b": "a", "c": "a"}


def test_cooc_scores_any_pair_and_the_last_products_neighbours() -> None:
    source = CoVisitSource(neighbours=5, profile_items=5, half_life_days=1e9).fit(BASKETS)
    u2, u3 = BASKETS.users.get_loc("u2"), BASKETS.users.get_loc("u3")
    a, b, c = (BASKETS.items.get_loc(x) for x in "abc")
    ab, ac = 2 / np.sqrt(3 * 2), 1 / np.sqrt(3 * 2)
    # u2's profile: a and c, each weight 4 (a purchase); b is similar to a only.
    scores = source.pair_scores(np.array([u2, u2, u3]), np.array([b, c, a]))
    assert scores == pytest.approx([4 * ab, 4 * ac, 4 * ac])
    last = source.last_item_similarity(np.array([u3, u3]), np.array([a, b]))
    assert last == pytest.approx([ac, 0.0])


def test_ease_learns_closed_form_item_weights() -> None:
    """X = [[1, 1], [1, 1], [1, 0]] (a, b), λ = 1.

    P = inv([[4, 2], [2, 3]]) = [[0.375, −0.25], [−0.25, 0.5]], so B[a, b] = 0.25 / 0.5 and B[b,
    a] = 0.25 / 0.375.
    """
    data = Interactions.from_events(
        frame([("u0", "a", 0), ("u0", "b", 0), ("u1", "a", 1), ("u1", "b", 1), ("u2", "a", 2)])
    )
    source = EASESource(regularization=1.0).fit(data)
    top = source.candidates(np.array([0, 2]), 5)
    assert top[[Columns.USER, Columns.ITEM, Columns.RANK]].to_dict("list") == {
        Columns.USER: [0, 0, 2],
        Columns.ITEM: [0, 1, 1],
        Columns.RANK: [1, 2, 1],
    }
    assert top[Columns.SCORE].tolist() == pytest.approx([2 / 3, 0.5, 0.5])
    only_a = EASESource(regularization=1.0, max_items=1).fit(data).candidates(np.array([2]), 5)
    assert only_a.empty  # b is left out, and an item never scores itself


def test_popular_is_the_same_list_for_everyone() -> None:
    top = PopularSource(half_life_days=1000).fit(BASKETS).candidates(np.array([0, 3]), 2)
    assert top[Columns.USER].tolist() == [0, 0, 3, 3]
    assert list(BASKETS.items[top[Columns.ITEM]]) == ["a", "c", "a", "c"]
    assert top["rank"].tolist() == [1, 2, 1, 2]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ALSSource(factors=4, iterations=3, seed=1),
        lambda: LightFMSource(factors=4, epochs=3, seed=1),
    ],
    ids=["als", "lightfm"],
)
def test_factor_models_are_deterministic_and_bounded(make) -> None:
    users = np.array([0, 1, 2, 3])
    first = make().fit(BASKETS).candidates(users, 2)
    second = make().fit(BASKETS).candidates(users, 2)
    pd.testing.assert_frame_equal(first, second)
    assert first.groupby(Columns.USER).size().max() <= 2
    assert not first.duplicated([Columns.USER, Columns.ITEM]).any()
    assert first[Columns.ITEM].between(0, BASKETS.n_items - 1).all()


def test_factor_models_skip_customers_they_never_saw() -> None:
    early = BASKETS.before(BASKETS.day[2])
    top = ALSSource(factors=4, iterations=2).fit(early).candidates(np.array([0, 3]), 2)
    assert set(top[Columns.USER]) == {0}
