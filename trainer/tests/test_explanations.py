import numpy as np
import pandas as pd
import scipy.sparse as sp

from vitrina_shared.schema import Columns
from vitrina_trainer.explanations import Explainer
from vitrina_trainer.interactions import Interactions

AT = pd.Timestamp("2024-05-01", tz="UTC")


def test_each_product_gets_the_reason_that_put_it_there() -> None:
    events = pd.DataFrame(
        [
            ("u1", "a", "purchase", 0),
            ("u1", "b", "view_item", 1),
            ("u1", "b", "add_to_cart", 2),
            ("u2", "c", "purchase", 0),
            ("u2", "d", "view_item", 0),
            ("u2", "e", "view_item", 0),
        ],
        columns=[Columns.USER, Columns.ITEM, Columns.EVENT, "day"],
    )
    events[Columns.DATETIME] = AT + pd.to_timedelta(events.pop("day"), unit="D")
    data = Interactions.from_events(events)  # users u1 u2; items a b c d e
    profile = sp.csr_matrix(np.array([[1.0, 0.5, 0, 0, 0], [0, 0, 1.0, 0, 0]]))
    similar = sp.csr_matrix(([0.2, 0.9, 0.3], ([0, 1, 0], [3, 3, 4])), shape=(5, 5))  # a~d b~d a~e
    categories = np.array([-1, -1, 0, -1, 1])
    explainer = Explainer(data, profile, similar, categories, pd.Index(["Garden", "Toys"]))
    stranger = data.n_users
    user = np.array([0, 0, 0, 0, 0, 1, 1, 1, stranger])
    item = np.array([0, 1, 3, 4, 2, 3, 4, 0, 2])
    assert explainer.explain(user, item).tolist() == [
        "bought_before",
        "viewed_before",
        "similar_to:b",  # 0.5 × 0.9 from b outweighs 1.0 × 0.2 from a
        "similar_to:a",
        "popular_in_category:Garden",
        "viewed_before",
        "viewed_before",
        "popular",
        "popular_in_category:Garden",
    ]


def test_without_categories_the_fallback_is_popular() -> None:
    events = pd.DataFrame(
        {Columns.USER: ["u1", "u2"], Columns.ITEM: ["a", "b"], Columns.DATETIME: [AT, AT]}
    )
    data = Interactions.from_events(events)  # no event type: purchases
    explainer = Explainer(data, sp.csr_matrix((2, 2)), sp.csr_matrix((2, 2)))
    assert explainer.explain(np.array([0, 0]), np.array([0, 1])).tolist() == [
        "bought_before",
        "popular",
    ]
