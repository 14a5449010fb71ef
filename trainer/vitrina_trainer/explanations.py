"""Why each recommended product is there: a `vitrina_shared.reasons` text per (user, item).

The first rule that holds wins: the customer bought it (`bought_before`) or only viewed or carted
it (`viewed_before`); else one of their recent products is similar to it by co-occurrence
(`similar_to` the one that weighs most: recency weight × similarity); else it is popular in its
category (`popular_in_category`), or popular.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vitrina_shared.reasons import SEPARATOR, ReasonCode
from vitrina_shared.schema import Columns
from vitrina_trainer.interactions import CART, PURCHASE, VIEW, Interactions, top_n_per_row

PROFILE_ITEMS = 10


class Explainer:
    """Why each recommended product is there, from the customer's own recent products.

    `profile`: users × items recency weights; `similar`: items × items similarity;
    `item_categories`: a category code per item (−1 = none) indexing `category_names`.
    """

    def __init__(
        self,
        data: Interactions,
        profile: sp.csr_matrix,
        similar: sp.csr_matrix,
        item_categories: np.ndarray | None = None,
        category_names: pd.Index | None = None,
        profile_items: int = PROFILE_ITEMS,
    ):
        self.items = data.items.to_numpy(dtype=object)
        self.n_users, self.n_items = data.n_users, data.n_items
        self.bought = data.pair_keys((PURCHASE,))
        self.seen = data.pair_keys((VIEW, CART, PURCHASE))
        top = top_n_per_row(profile, profile_items)
        self.profile = sp.csr_matrix(
            (
                top[Columns.SCORE].to_numpy(),
                (top[Columns.USER].to_numpy(), top[Columns.ITEM].to_numpy()),
            ),
            shape=profile.shape,
        )
        self.similar = sp.csr_matrix(similar)
        self.categories = item_categories
        self.category_names = category_names

    def explain(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The reason text of each (user, item) code pair; users past the model's are unknown."""
        user = np.asarray(user, dtype=np.int64)
        item = np.asarray(item, dtype=np.int64)
        reasons = np.full(len(user), ReasonCode.POPULAR.value, dtype=object)
        if self.categories is not None and self.category_names is not None:
            category = self.categories[item]
            has = category >= 0
            names = self.category_names.to_numpy(dtype=object)
            prefix = f"{ReasonCode.POPULAR_IN_CATEGORY}{SEPARATOR}"
            reasons[has] = prefix + names[category[has]]
        known = user < self.n_users
        keys = np.where(known, user, 0) * self.n_items + item
        bought = known & np.isin(keys, self.bought)
        viewed = known & ~bought & np.isin(keys, self.seen)
        rows = np.flatnonzero(known & ~bought & ~viewed)
        similar_rows, similar_items = self._most_similar(user[rows], item[rows])
        prefix = f"{ReasonCode.SIMILAR_TO}{SEPARATOR}"
        reasons[rows[similar_rows]] = prefix + self.items[similar_items]
        reasons[viewed] = ReasonCode.VIEWED_BEFORE.value
        reasons[bought] = ReasonCode.BOUGHT_BEFORE.value
        return reasons

    def _most_similar(self, user: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each pair, the profile item weighing most towards it: (pair positions, items)."""
        if len(user) == 0:
            return np.array([], np.int64), np.array([], np.int64)
        profile = self.profile[user].tocoo()
        pair, source = profile.row, profile.col
        similarity = np.asarray(self.similar[source, item[pair]]).ravel()
        weight = profile.data * similarity
        useful = weight > 0
        pair, source, weight = pair[useful], source[useful], weight[useful]
        order = np.lexsort((source, -weight, pair))
        pair, source = pair[order], source[order]
        first = np.r_[True, pair[1:] != pair[:-1]] if len(pair) else np.array([], bool)
        return pair[first], source[first]
