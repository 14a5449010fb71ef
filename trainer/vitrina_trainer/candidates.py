"""Stage one: candidate sources, each fitted on events and asked for a few products per customer.

Every source has the same contract: `fit(data)` on `Interactions`, then `candidates(users, n)` →
frame of user, item (codes), score, rank (1 = best), at most `n` rows per customer. The ranker
reads every source's score and rank as features, so a source only has to be good at recall.

`for_customers(shard, fitted_users)` keeps what a source learned about products and takes what
it knows of customers from a shard's events (same item codes, user codes of the shard): how the
Spark engine scores a partition of customers with the model the driver fitted.
"""

from collections.abc import Callable
from typing import ClassVar, Protocol, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from lightfm import LightFM
from rectools import Columns as RecColumns
from rectools.dataset import Dataset
from rectools.models import ImplicitALSWrapperModel, LightFMWrapperModel
from rectools.models.base import ModelBase
from rectools.models.rank import Distance, ImplicitRanker
from threadpoolctl import threadpool_limits

from vitrina_shared.schema import Columns
from vitrina_trainer.interactions import Interactions, rank_within_groups, top_n_per_row

USER_CHUNK = 20_000
PAIR_CHUNK = 100_000
NEIGHBOUR_BLOCK = 1_000


class CandidateSource(Protocol):
    name: str

    def fit(self, data: Interactions) -> Self: ...

    def for_customers(self, shard: Interactions, fitted_users: pd.Index) -> Self: ...

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame: ...


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            Columns.USER: np.array([], np.int32),
            Columns.ITEM: np.array([], np.int32),
            Columns.SCORE: np.array([], np.float32),
            Columns.RANK: np.array([], np.int32),
        }
    )


def _pairs_in_chunks(
    score: Callable[[np.ndarray, np.ndarray], np.ndarray], user: np.ndarray, item: np.ndarray
) -> np.ndarray:
    """`score(user, item)` `PAIR_CHUNK` pairs at a time: its temporaries stay small."""
    user, item = np.asarray(user, np.int64), np.asarray(item, np.int64)
    out = np.empty(len(user), np.float32)
    for start in range(0, len(user), PAIR_CHUNK):
        end = start + PAIR_CHUNK
        out[start:end] = score(user[start:end], item[start:end])
    return out


def _chunked_top_n(
    scores_for: Callable[[np.ndarray], sp.spmatrix], users: np.ndarray, n: int
) -> pd.DataFrame:
    """Top-n of a user × item score matrix computed `USER_CHUNK` customers at a time."""
    users = np.asarray(users, dtype=np.int64)
    parts = []
    for start in range(0, len(users), USER_CHUNK):
        chunk = users[start : start + USER_CHUNK]
        part = top_n_per_row(scores_for(chunk), n)
        part[Columns.USER] = chunk[part[Columns.USER].to_numpy()].astype(np.int32)
        parts.append(part)
    return pd.concat(parts, ignore_index=True) if parts else _empty()


class HistorySource:
    """The customer's own products, scored by recency- and frequency-weighted interactions.

    In retail customers mostly buy again what they bought before: this is the strongest single
    source on real data.
    """

    name = "history"

    def __init__(self, half_life_days: float = 60.0):
        self.half_life_days = half_life_days
        self.scores: sp.csr_matrix | None = None

    def fit(self, data: Interactions) -> Self:
        self.scores = data.decayed_matrix(self.half_life_days)
        return self

    def for_customers(self, shard: Interactions, fitted_users: pd.Index) -> Self:
        return type(self)(self.half_life_days).fit(shard)

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame:
        return _chunked_top_n(lambda chunk: self.scores[chunk], users, n)


def top_neighbours(
    target: np.ndarray, item: np.ndarray, count: np.ndarray, customers: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each target's `k` nearest other items by co-occurrence: the one rule of both engines.

    `count` is the number of customers with both the target and the item, `customers` each item's
    number of customers (by code); the score is their cosine, count / √(customers × customers),
    as float32; ties go to the lower item code. Rows: target, item, score, best first. The
    default engine feeds it blocks of a sparse product; the Spark engine, partitions of a join.
    """
    target, item = np.asarray(target, np.int64), np.asarray(item, np.int64)
    other = target != item
    target, item, count = target[other], item[other], np.asarray(count, np.float64)[other]
    score = (count / np.sqrt(customers[target] * customers[item])).astype(np.float32)
    order = np.lexsort((item, -score, target))
    best = order[rank_within_groups(target[order]) <= k]
    return target[best], item[best], score[best]


def neighbour_matrix(
    target: np.ndarray, item: np.ndarray, score: np.ndarray, n_items: int
) -> sp.csr_matrix:
    """Items × items from `top_neighbours`' rows (in canonical order, whoever computed them)."""
    similar = sp.csr_matrix(
        (np.asarray(score, np.float32), (target, item)), shape=(n_items, n_items), dtype=np.float32
    )
    similar.sum_duplicates()
    return similar


def cosine_neighbours(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Items × items: each item's `k` nearest by cosine of their (binary) customer columns.

    The co-occurrence counts are the binary matrix's Gram product, `NEIGHBOUR_BLOCK` products at
    a time, so no items × items matrix is held: each block keeps its `top_neighbours`.
    """
    binary = sp.csr_matrix(matrix, dtype=np.int32, copy=True)
    binary.data[:] = 1
    columns = sp.csr_matrix(binary.T)
    customers = np.diff(columns.indptr).astype(np.float64)
    parts = []
    for start in range(0, binary.shape[1], NEIGHBOUR_BLOCK):
        counts = (columns[start : start + NEIGHBOUR_BLOCK] @ binary).tocoo()
        parts.append(top_neighbours(counts.row + start, counts.col, counts.data, customers, k))
    target, item, score = (np.concatenate(rows) for rows in zip(*parts, strict=True))
    return neighbour_matrix(target, item, score, binary.shape[1])


class CoVisitSource:
    """Item-to-item co-occurrence: products bought by the customers who bought the customer's own.

    A customer's profile is their `profile_items` most recent products (decayed weights); scores
    are the profile times each item's `neighbours` nearest items by cosine.
    """

    name = "cooc"

    def __init__(
        self,
        neighbours: int = 50,
        profile_items: int = 30,
        half_life_days: float = 60.0,
    ):
        self.neighbours = neighbours
        self.profile_items = profile_items
        self.half_life_days = half_life_days
        self.similar: sp.csr_matrix | None = None
        self.similar_to: sp.csr_matrix | None = None
        self.profile: sp.csr_matrix | None = None
        self.last_item: np.ndarray | None = None

    def fit(self, data: Interactions) -> Self:
        decayed = data.decayed_matrix(self.half_life_days)
        self.set_similar(cosine_neighbours(decayed, self.neighbours))
        self.last_item = _last_items(data)
        self.profile = self._profile(decayed)
        return self

    def set_similar(self, similar: sp.csr_matrix) -> None:
        """The items' neighbours (`cosine_neighbours`), computed here or elsewhere (on Spark)."""
        self.similar = similar
        self.similar_to = sp.csr_matrix(similar.T)

    def _profile(self, decayed: sp.csr_matrix) -> sp.csr_matrix:
        top = top_n_per_row(decayed, self.profile_items)
        return sp.csr_matrix(
            (
                top[Columns.SCORE].to_numpy(),
                (top[Columns.USER].to_numpy(), top[Columns.ITEM].to_numpy()),
            ),
            shape=decayed.shape,
        )

    def for_customers(self, shard: Interactions, fitted_users: pd.Index) -> Self:
        """The learned neighbours, the shard's customers' profiles."""
        copy = type(self)(self.neighbours, self.profile_items, self.half_life_days)
        copy.similar, copy.similar_to = self.similar, self.similar_to
        copy.last_item = _last_items(shard)
        copy.profile = self._profile(shard.decayed_matrix(self.half_life_days))
        return copy

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame:
        return _chunked_top_n(lambda chunk: self.profile[chunk] @ self.similar, users, n)

    def pair_scores(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The source's score of each (user, item) pair, proposed or not: profile · similarity."""

        def score(user: np.ndarray, item: np.ndarray) -> np.ndarray:
            products = self.profile[user].multiply(self.similar_to[item])
            return np.asarray(products.sum(axis=1), np.float32).ravel()

        return _pairs_in_chunks(score, user, item)

    def last_item_similarity(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Similarity of each item to its user's most recent product: the sequence signal."""
        last = self.last_item[np.asarray(user, np.int64)]
        out = np.full(len(last), np.nan, np.float32)
        has = last >= 0
        out[has] = np.asarray(self.similar[last[has], np.asarray(item)[has]]).ravel()
        return out

    def similar_items(self, k: int) -> pd.DataFrame:
        """Each product's `k` nearest products: frame of target item, item, score, rank (codes)."""
        return top_n_per_row(self.similar, k).rename(columns={Columns.USER: Columns.TARGET_ITEM})


def _last_items(data: Interactions) -> np.ndarray:
    """Each user's most recent product (−1 for none): events are in time order, the last wins."""
    last = np.full(data.n_users, -1, np.int64)
    last[data.user] = data.item
    return last


class EASESource:
    """EASE (Steck, 2019).

    A closed-form item-to-item linear model, B = I − P / diag(P) with P = (XᵀX + λI)⁻¹ over
    binary customer × product interactions; scores = X B.

    Strong at products new to the customer. Its cost is cubic in products, so it keeps the
    `max_items` products with the most customers (the rest is left to the other sources).
    """

    name = "ease"
    CHUNK = 2_000

    def __init__(self, regularization: float = 500.0, max_items: int = 5_000, threads: int = 1):
        self.regularization = regularization
        self.max_items = max_items
        self.threads = threads
        self.kept = np.array([], np.int64)
        self.weights: np.ndarray | None = None
        self.rows: sp.csr_matrix | None = None

    def fit(self, data: Interactions) -> Self:
        binary = data.matrix(np.ones(len(data), np.float32))
        binary.data[:] = 1.0
        customers = np.diff(binary.tocsc().indptr)
        kept = np.argsort(-customers, kind="stable")[: self.max_items]
        self.kept = np.sort(kept[customers[kept] > 0])
        self.rows = sp.csr_matrix(binary[:, self.kept])
        gram = (self.rows.T @ self.rows).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.regularization
        with threadpool_limits(self.threads, user_api="blas"):
            inverse = np.linalg.inv(gram)
        weights = inverse / -np.diag(inverse)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights = weights.astype(np.float32)
        return self

    def for_customers(self, shard: Interactions, fitted_users: pd.Index) -> Self:
        """The learned item weights; the shard's customers' rows of the interactions."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        binary = shard.matrix(np.ones(len(shard), np.float32))
        binary.data[:] = 1.0
        copy.rows = sp.csr_matrix(binary[:, self.kept])
        return copy

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame:
        users = np.asarray(users, dtype=np.int64)
        parts = []
        for start in range(0, len(users), self.CHUNK):
            chunk = users[start : start + self.CHUNK]
            scores = np.asarray(self.rows[chunk] @ self.weights)
            take = min(n, scores.shape[1])
            if take == 0:
                continue
            best = np.argpartition(-scores, take - 1, axis=1)[:, :take]
            best_scores = np.take_along_axis(scores, best, axis=1).ravel()
            row = np.repeat(np.arange(len(chunk)), take)
            col = best.ravel()
            order = np.lexsort((col, -best_scores, row))
            order = order[best_scores[order] > 0]
            parts.append(
                pd.DataFrame(
                    {
                        Columns.USER: chunk[row[order]].astype(np.int32),
                        Columns.ITEM: self.kept[col[order]].astype(np.int32),
                        Columns.SCORE: best_scores[order].astype(np.float32),
                        Columns.RANK: rank_within_groups(row[order]).astype(np.int32),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True) if parts else _empty()


class PopularSource:
    """The most popular products lately (decayed), the same for every customer."""

    name = "popular"

    def __init__(self, half_life_days: float = 14.0):
        self.half_life_days = half_life_days
        self.item_scores: np.ndarray | None = None

    def fit(self, data: Interactions) -> Self:
        decay = np.exp2(-(data.now - data.day) / self.half_life_days)
        self.item_scores = np.bincount(data.item, weights=decay, minlength=data.n_items)
        return self

    def for_customers(self, shard: Interactions, fitted_users: pd.Index) -> Self:
        return self  # the same list for everyone

    def top(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The `n` best items and their scores."""
        order = np.argsort(-self.item_scores, kind="stable")[:n]
        order = order[self.item_scores[order] > 0]
        return order.astype(np.int32), self.item_scores[order].astype(np.float32)

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame:
        items, scores = self.top(n)
        users = np.asarray(users, dtype=np.int32)
        return pd.DataFrame(
            {
                Columns.USER: np.repeat(users, len(items)),
                Columns.ITEM: np.tile(items, len(users)),
                Columns.SCORE: np.tile(scores, len(users)),
                Columns.RANK: np.tile(np.arange(1, len(items) + 1, dtype=np.int32), len(users)),
            }
        )


class _RecToolsSource:
    """A RecTools model on the customers' aggregated interactions (codes as external ids).

    Each customer's `max_items` most recently touched products at most: the long tails of the
    heaviest customers cost the factor models time and add little. BLAS is held to one thread
    while fitting: implicit's ALS is slow (and warns) otherwise. After fitting only the vectors
    are kept (a row per customer code, one per product): candidates are RecTools' own ranker on
    them, so a shard of customers is scored from its rows alone.
    """

    name: ClassVar[str]

    def __init__(self, max_items: int | None = None, threads: int = 1) -> None:
        self.max_items = max_items
        self.threads = threads
        self.user_vectors = np.zeros((0, 0), np.float32)
        self.has_vector = np.array([], bool)
        self.item_vectors = np.zeros((0, 0), np.float32)
        self.item_codes = np.array([], np.int32)

    def _model(self) -> ModelBase:
        raise NotImplementedError

    def _vectors(self, model: ModelBase, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
        """User and item vectors (in RecTools' internal order) whose dot product is the score."""
        raise NotImplementedError

    def fit(self, data: Interactions) -> Self:
        keys = data.user.astype(np.int64) * data.n_items + data.item
        pair_keys, inverse = np.unique(keys, return_inverse=True)
        weight = np.bincount(inverse, weights=data.weight, minlength=len(pair_keys))
        last = np.full(len(pair_keys), -np.inf)
        np.maximum.at(last, inverse, data.day)
        pair_user = pair_keys // data.n_items
        order = np.lexsort((-last, pair_user))
        kept = order[rank_within_groups(pair_user[order]) <= (self.max_items or data.n_items)]
        frame = pd.DataFrame(
            {
                RecColumns.User: pair_user[kept],
                RecColumns.Item: pair_keys[kept] % data.n_items,
                RecColumns.Weight: np.log1p(weight[kept]),
                RecColumns.Datetime: pd.Timestamp(0),
            }
        )
        dataset = Dataset.construct(frame)
        with threadpool_limits(1, user_api="blas"):
            model = self._model().fit(dataset)
        users, items = self._vectors(model, dataset)
        self.user_vectors = np.zeros((data.n_users, users.shape[1]), np.float32)
        self.has_vector = np.zeros(data.n_users, bool)
        fitted = dataset.user_id_map.external_ids.astype(np.int64)
        self.user_vectors[fitted] = users
        self.has_vector[fitted] = True
        self.item_vectors = items.astype(np.float32)
        self.item_codes = dataset.item_id_map.external_ids.astype(np.int32)
        self.item_rows = np.full(data.n_items, -1, np.int64)
        self.item_rows[self.item_codes] = np.arange(len(self.item_codes))
        return self

    def pair_scores(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The model's score of each (user, item) pair, proposed or not.

        The dot product of their vectors; NaN if either is unknown to the model.
        """

        def score(user: np.ndarray, item: np.ndarray) -> np.ndarray:
            rows = self.item_rows[item]
            out = np.full(len(user), np.nan, np.float32)
            known = self.has_vector[user] & (rows >= 0)
            out[known] = np.einsum(
                "ij,ij->i", self.user_vectors[user[known]], self.item_vectors[rows[known]]
            )
            return out

        return _pairs_in_chunks(score, np.asarray(user, np.int64), np.asarray(item, np.int64))

    def for_customers(self, shard: Interactions, fitted_users: pd.Index) -> Self:
        """The learned product vectors; the shard's customers' rows of the customer vectors."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        rows = fitted_users.get_indexer(shard.users)
        known = rows >= 0
        copy.has_vector = np.zeros(shard.n_users, bool)
        copy.has_vector[known] = self.has_vector[rows[known]]
        copy.user_vectors = np.zeros((shard.n_users, self.user_vectors.shape[1]), np.float32)
        copy.user_vectors[known] = self.user_vectors[rows[known]]
        return copy

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame:
        users = np.asarray(users, dtype=np.int64)
        users = np.unique(users[self.has_vector[users]])
        if len(users) == 0:
            return _empty()
        ranker = ImplicitRanker(
            Distance.DOT, self.user_vectors[users], self.item_vectors, num_threads=self.threads
        )
        rows, items, scores = ranker.rank(np.arange(len(users)), k=n)
        rows = np.asarray(rows)
        return pd.DataFrame(
            {
                Columns.USER: users[rows].astype(np.int32),
                Columns.ITEM: self.item_codes[np.asarray(items)],
                Columns.SCORE: np.asarray(scores, np.float32),
                Columns.RANK: rank_within_groups(rows).astype(np.int32),
            }
        )


class ALSSource(_RecToolsSource):
    """Implicit ALS (RecTools wrapper): collaborative candidates beyond the customer's history."""

    name = "als"

    def __init__(
        self,
        factors: int = 64,
        iterations: int = 15,
        regularization: float = 0.1,
        alpha: float = 1.0,
        threads: int = 1,
        seed: int = 42,
        max_items: int | None = None,
    ):
        super().__init__(max_items, threads)
        self.params = {
            "factors": factors,
            "iterations": iterations,
            "regularization": regularization,
            "alpha": alpha,
            "num_threads": threads,
            "random_state": seed,
        }

    def _model(self) -> ModelBase:
        return ImplicitALSWrapperModel(AlternatingLeastSquares(**self.params))

    def _vectors(self, model: ModelBase, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
        return model.get_vectors()


class LightFMSource(_RecToolsSource):
    """LightFM WARP (RecTools wrapper), learnt on one thread with a fixed seed.

    Deterministic, so two runs (and two evaluation cuts) compare models, not noise. Scoring uses
    every thread.
    """

    name = "lightfm"

    def __init__(
        self,
        factors: int = 64,
        epochs: int = 10,
        learning_rate: float = 0.05,
        threads: int = 1,
        seed: int = 42,
        max_items: int | None = None,
    ):
        super().__init__(max_items, threads)
        self.factors, self.epochs, self.learning_rate = factors, epochs, learning_rate
        self.seed = seed

    def _model(self) -> ModelBase:
        return LightFMWrapperModel(
            LightFM(
                no_components=self.factors,
                loss="warp",
                learning_rate=self.learning_rate,
                random_state=self.seed,
            ),
            epochs=self.epochs,
            num_threads=1,  # Hogwild SGD on more threads differs from run to run
        )

    def _vectors(self, model: ModelBase, dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
        return model.get_vectors(dataset, add_biases=True)
