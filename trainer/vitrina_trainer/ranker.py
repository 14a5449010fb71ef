"""Stage two: a LightGBM lambdarank model over candidate features, one query group per customer.

It learns on stage-one candidates fitted on local train, labelled by local validation. A share of
the customers is held out for early stopping; NDCG@10 of whole candidate lists of the learned
customers versus the held-out ones is the overfitting check the evaluation reports.

With `bags` above 1 it is a bag of such models, each with its own held-out customers and seed,
whose scores are averaged: which customers one model holds out moves its early stop, and with it
discovery NDCG@10 on online-retail-2009, by as much as the differences between settings.
"""

from typing import Self

import lightgbm as lgb
import numpy as np
import pandas as pd
from rectools.metrics import NDCG

from vitrina_shared.schema import Columns
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.interactions import rank_within_groups

EVAL_AT = 10


class RankerError(TrainerError):
    """The ranker cannot learn: e.g. no candidate was ever bought in the validation period."""


def sample_negatives(
    labels: np.ndarray, groups: np.ndarray, per_group: int, seed: int = 42
) -> np.ndarray:
    """Rows to learn from.

    Every row of a group with a positive, but at most `per_group` random negatives of it.
    Lambdarank's cost grows with the square of a group's size; a few dozen negatives teach it as
    much as a hundred.
    """
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    useful = np.isin(groups, np.unique(groups[labels > 0]))
    noise = np.random.default_rng(seed).random(len(labels))
    order = np.lexsort((noise, labels > 0, groups))
    negative_rank = np.empty(len(labels), np.int64)
    negative_rank[order] = rank_within_groups(groups[order])  # negatives come first: 1, 2, …
    return useful & ((labels > 0) | (negative_rank <= per_group))


class Ranker:
    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_child_samples: int = 50,
        holdout_share: float = 0.2,
        negatives: int = 40,
        early_stopping_rounds: int = 20,
        bags: int = 1,
        threads: int = 1,
        seed: int = 42,
    ):
        self.params = {
            "objective": "lambdarank",
            "n_estimators": n_estimators,
            "learning_rate": learning_rate,
            "num_leaves": num_leaves,
            "min_child_samples": min_child_samples,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
            "lambdarank_truncation_level": 20,
            "n_jobs": threads,
            "random_state": seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        self.holdout_share = holdout_share
        self.negatives = negatives
        self.early_stopping_rounds = early_stopping_rounds
        self.bags = bags
        self.seed = seed
        self.models: list[lgb.LGBMRanker] = []
        self.features: list[str] = []
        self.scores: dict[str, float] = {}

    def fit(self, features: pd.DataFrame, labels: np.ndarray, groups: np.ndarray) -> Self:
        """`groups`: the customer of each row; only customers with a positive row are learned.

        The learned customers' lists are thinned to `negatives` negatives each; the held-out
        customers keep their whole lists, which early stopping and the overfitting check see.
        """
        labels = np.asarray(labels, dtype=np.float32)
        groups = np.asarray(groups)
        positive_groups = np.unique(groups[labels > 0])
        if len(positive_groups) == 0:
            raise RankerError(
                "no candidate was bought in the validation period: the ranker has nothing to learn"
            )
        self.features = list(features.columns)
        self.models = []
        for seed in range(self.seed, self.seed + self.bags):
            learn_lists, learn_rows, hold_rows = self._split(labels, groups, positive_groups, seed)
            self.models.append(self._fit_one(features, labels, groups, learn_rows, hold_rows, seed))
        # The overfitting check is the last model's, on its own split: the bag learned every
        # customer it held out.
        last = self.models[-1]
        self.scores = {
            "learn_ndcg": self._list_ndcg(last, features, labels, groups, learn_lists),
            "holdout_ndcg": self._list_ndcg(last, features, labels, groups, hold_rows),
            "trees": float(np.mean([m.best_iteration_ or m.n_estimators for m in self.models])),
            "customers": len(positive_groups),
            "rows": int(learn_rows.sum() + hold_rows.sum()),
        }
        return self

    def _split(
        self, labels: np.ndarray, groups: np.ndarray, positive_groups: np.ndarray, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One model's rows: its learned customers' lists, those thinned, its held-out rows."""
        rng = np.random.default_rng(seed)
        holdout = positive_groups[rng.random(len(positive_groups)) < self.holdout_share]
        if len(holdout) == len(positive_groups):
            holdout = holdout[:0]
        learn_lists = np.isin(groups, positive_groups) & ~np.isin(groups, holdout)
        learn_rows = learn_lists & sample_negatives(labels, groups, self.negatives, seed)
        return learn_lists, learn_rows, np.isin(groups, holdout)

    def _fit_one(
        self,
        features: pd.DataFrame,
        labels: np.ndarray,
        groups: np.ndarray,
        learn_rows: np.ndarray,
        hold_rows: np.ndarray,
        seed: int,
    ) -> lgb.LGBMRanker:
        learn = self._sorted(features, labels, groups, learn_rows)
        model = lgb.LGBMRanker(**{**self.params, "random_state": seed})
        fit_args: dict = {}
        if hold_rows.any():
            held = self._sorted(features, labels, groups, hold_rows)
            fit_args = {
                "eval_X": (held[0],),
                "eval_y": (held[1],),
                "eval_group": [held[2]],
                "eval_at": [EVAL_AT],
                "callbacks": [lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            }
        return model.fit(learn[0], learn[1], group=learn[2], **fit_args)

    def _list_ndcg(
        self,
        model: lgb.LGBMRanker,
        features: pd.DataFrame,
        labels: np.ndarray,
        groups: np.ndarray,
        rows: np.ndarray,
    ) -> float:
        """RecTools' NDCG@10 of `model`'s order of whole candidate lists (NaN if none)."""
        index = np.flatnonzero(rows)
        if len(index) == 0:
            return float("nan")
        scores = model.predict(
            features.iloc[index][self.features], num_threads=self.params["n_jobs"]
        )
        order = np.lexsort((-scores, groups[index]))
        ranked = pd.DataFrame(
            {
                Columns.USER: groups[index][order],
                Columns.ITEM: index[order],
                Columns.RANK: rank_within_groups(groups[index][order]),
            }
        )
        relevant = ranked[labels[index][order] > 0][[Columns.USER, Columns.ITEM]]
        return float(NDCG(k=EVAL_AT).calc(ranked[ranked[Columns.RANK] <= EVAL_AT], relevant))

    @staticmethod
    def _sorted(
        features: pd.DataFrame, labels: np.ndarray, groups: np.ndarray, rows: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        index = np.flatnonzero(rows)
        index = index[np.argsort(groups[index], kind="stable")]
        _, sizes = np.unique(groups[index], return_counts=True)
        return features.iloc[index], labels[index], sizes

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        if not self.models:
            raise RankerError("the ranker is not fitted")
        table = features[self.features]
        threads = self.params["n_jobs"]
        return np.mean([m.predict(table, num_threads=threads) for m in self.models], axis=0)

    def feature_importance(self) -> pd.Series:
        """Total gain per feature, as shares summing to 1, largest first."""
        if not self.models:
            raise RankerError("the ranker is not fitted")
        gain = sum(m.booster_.feature_importance(importance_type="gain") for m in self.models)
        total = gain.sum() or 1.0
        return pd.Series(gain / total, index=self.features, name="gain").sort_values(
            ascending=False
        )
