"""The two-stage recommender of the design doc, glued from its parts.

fit: cut the events 80 / 20 in time → stage one on the first part → candidates and features of the
customers seen on both sides, labelled by what they did after the cut → the ranker (and, when
configured, a second one for the products new to the customer, learnt on the candidates they never
interacted with, labelled by the new products they went on to buy or add to cart) → stage one and
the features refitted on all the events. recommend: candidates → features → ranker → top k, topped
up from popular products, in two orders (repeat purchases allowed; only new products), each
product with the reason it is there (`explanations`).
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple, Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pydantic import BaseModel, Field

from vitrina_shared.schema import Columns, ItemColumns
from vitrina_trainer.candidates import (
    ALSSource,
    CandidateSource,
    CoVisitSource,
    EASESource,
    HistorySource,
    LightFMSource,
    PopularSource,
)
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.explanations import Explainer
from vitrina_trainer.features import FeatureBuilder
from vitrina_trainer.interactions import (
    CART,
    DEFAULT_EVENT_WEIGHTS,
    PURCHASE,
    InputError,
    Interactions,
    rank_within_groups,
)
from vitrina_trainer.ranker import Ranker, RankerError
from vitrina_trainer.splits import LOCAL_TRAIN_SHARE, local_split
from vitrina_trainer.stages import progress

log = logging.getLogger("vitrina_trainer")
RECOMMEND_CHUNK = 10_000


class SourceConfig(BaseModel):
    candidates: int = Field(40, ge=1, description="Candidates proposed per customer.")


class HistoryConfig(SourceConfig):
    """The customer's own products; the half-life also decays the ranker's pair features."""

    half_life_days: float = Field(120.0, gt=0)
    candidates: int = Field(50, ge=1)


class CoVisitConfig(SourceConfig):
    """Deep lists (100).

    Most of a customer's new products come from here and from ALS, and the first 40 are mostly
    products they already had.
    """

    neighbours: int = Field(50, ge=1)
    profile_items: int = Field(30, ge=1)
    candidates: int = Field(100, ge=1)


class EASEConfig(SourceConfig):
    regularization: float = Field(500.0, gt=0)
    max_items: int = Field(5_000, ge=1, description="Products kept: the cost is cubic in them.")


class PopularConfig(SourceConfig):
    half_life_days: float = Field(14.0, gt=0)
    candidates: int = Field(30, ge=1)


class FactorModelConfig(SourceConfig):
    """A RecTools factor model on each customer's `max_items` most recent products."""

    factors: int = Field(64, ge=1)
    max_items: int = Field(50, ge=1)


class ALSConfig(FactorModelConfig):
    """Each customer's whole history (up to 1,000 products), not only the latest 50.

    Discovery NDCG@10 on online-retail-2009's 0.7 cut, where what comes after the cut spans four
    months: 1.318x ALS-64's with 1,000 and 1.241 with 50 (ranker bags of 5, seed 42).
    """

    max_items: int = Field(1_000, ge=1)
    iterations: int = Field(15, ge=1)
    candidates: int = Field(100, ge=1)
    regularization: float = Field(0.1, ge=0)
    alpha: float = Field(1.0, gt=0)


class LightFMConfig(FactorModelConfig):
    epochs: int = Field(10, ge=1)


class RankerConfig(BaseModel):
    trees: int = Field(300, ge=1)
    learning_rate: float = Field(0.1, gt=0)
    leaves: int = Field(15, ge=2)
    max_customers: int = Field(15_000, ge=10)
    negatives: int = Field(40, ge=1)
    patience: int = Field(20, ge=1, description="Trees without progress before stopping early.")
    bags: int = Field(5, ge=1, description="Models averaged, each with its own held-out customers.")


class RecommenderLists(NamedTuple):
    """Both orders of the same customers.

    `repeat` allows products they had, `discovery` holds only products new to them; user, item,
    score, rank and reason columns.
    """

    repeat: pd.DataFrame
    discovery: pd.DataFrame


class RecommenderConfig(BaseModel):
    """Every knob of the model, one section per part; logged with each run, enough to rebuild it.

    `threads` and `seed` are given to every part.
    """

    event_weights: dict[str, float] = DEFAULT_EVENT_WEIGHTS
    # EASE for products new to the customer: with it, discovery NDCG@10 on online-retail-2009's
    # 0.7 / 0.8 / 0.9 cuts is 1.33 / 1.43 / 1.43x ALS-64's, without it 1.32 / 1.39 / 1.45x.
    sources: tuple[str, ...] = ("history", "cooc", "als", "lightfm", "popular", "ease")
    history: HistoryConfig = HistoryConfig()
    cooc: CoVisitConfig = CoVisitConfig()
    als: ALSConfig = ALSConfig()
    lightfm: LightFMConfig = LightFMConfig()
    ease: EASEConfig = EASEConfig()
    popular: PopularConfig = PopularConfig()
    ranker: RankerConfig = RankerConfig()
    # A second ranker for new products; None: the main one orders them. On online-retail-2009's
    # 0.7 and 0.8 cuts the main ranker ordered new products better (discovery NDCG@10 0.116 and
    # 0.114) than a second one (0.111 and 0.103, with 7 leaves, learning rate 0.05, patience 50).
    discovery_ranker: RankerConfig | None = None
    local_train_share: float = Field(LOCAL_TRAIN_SHARE, gt=0, lt=1)
    threads: int = Field(2, ge=1)
    seed: int = 42

    def candidates(self, source: str) -> int:
        """How many candidates `source` proposes per customer."""
        part: SourceConfig = getattr(self, source)
        return part.candidates


class NotFittedError(TrainerError):
    """recommend/similar_items/popular called before fit."""


def _log_step(step: str, started: float, **numbers: object) -> None:
    details = "".join(f", {name} {value}" for name, value in numbers.items())
    log.info("two-stage fit: %s done at %.1f s%s", step, time.perf_counter() - started, details)


def make_sources(c: RecommenderConfig) -> dict[str, CandidateSource]:
    """Stage one as configured; popular and co-occurrence always exist (fallback, similar items)."""
    makers = {
        "history": lambda: HistorySource(half_life_days=c.history.half_life_days),
        "cooc": lambda: CoVisitSource(
            neighbours=c.cooc.neighbours, profile_items=c.cooc.profile_items
        ),
        "popular": lambda: PopularSource(half_life_days=c.popular.half_life_days),
        "ease": lambda: EASESource(
            regularization=c.ease.regularization, max_items=c.ease.max_items, threads=c.threads
        ),
        "als": lambda: ALSSource(
            factors=c.als.factors,
            iterations=c.als.iterations,
            regularization=c.als.regularization,
            alpha=c.als.alpha,
            threads=c.threads,
            seed=c.seed,
            max_items=c.als.max_items,
        ),
        "lightfm": lambda: LightFMSource(
            factors=c.lightfm.factors,
            epochs=c.lightfm.epochs,
            threads=c.threads,
            seed=c.seed,
            max_items=c.lightfm.max_items,
        ),
    }
    unknown = set(c.sources) - set(makers)
    if unknown:
        raise TrainerError(
            f"unknown candidate source(s) {sorted(unknown)}; known: {sorted(makers)}"
        )
    names = dict.fromkeys((*c.sources, "popular", "cooc"))
    return {name: makers[name]() for name in names}


def discovery_labels(keys: np.ndarray, validation: Interactions) -> np.ndarray:
    """The discovery ranker's label of each user × n_items + item key of products new to the user.

    2 if they bought it or added it to cart in `validation`, 1 if they only viewed it.
    """
    strong = np.isin(keys, validation.pair_keys((CART, PURCHASE)))
    touched = np.isin(keys, validation.pair_keys())
    return np.where(strong, 2.0, np.where(touched, 1.0, 0.0)).astype(np.float32)


@dataclass(frozen=True)
class Diagnostics:
    """What the evaluation reports beyond the lists.

    The encoded events stage one was refitted on, and the ranker's own numbers (NDCG@10 of learned
    and held-out customers, trees, rows).
    """

    data: Interactions
    ranker: dict[str, float]
    discovery_ranker: dict[str, float]


class TwoStageRecommender:
    def __init__(self, config: RecommenderConfig | None = None):
        self.config = config or RecommenderConfig()
        self._data: Interactions | None = None
        self._sources: dict[str, CandidateSource] = {}
        self.features = FeatureBuilder(self.config.history.half_life_days)
        self._ranker: Ranker | None = None
        self._discovery_ranker: Ranker | None = None
        self._explainer: Explainer | None = None
        self.item_categories: np.ndarray | None = None
        self.category_names: pd.Index | None = None
        self._n_items = 0

    def _fit_stage_one(self, data: Interactions) -> dict[str, CandidateSource]:
        sources = make_sources(self.config)
        for source in sources.values():
            source.fit(data)
        return sources

    def fit(self, events: pd.DataFrame, items: pd.DataFrame | None = None) -> Self:
        """Learn the ranker across a local 80 / 20 time cut, then refit stage one on everything."""
        started = time.perf_counter()
        catalog = None if items is None else pd.Index(items[Columns.ITEM].astype(str))
        data = Interactions.from_events(events, self.config.event_weights, catalog)
        self._n_items = data.n_items
        self.item_categories, self.category_names = self._categories(data, items)
        local = local_split(data, self.config.local_train_share)
        local_train, local_validation = local.train, local.validation
        _log_step("encoded and cut", started, events=len(data), users=data.n_users)

        sources = self._fit_stage_one(local_train)
        features = FeatureBuilder(self.config.history.half_life_days).fit(
            local_train, self.item_categories
        )
        _log_step("stage one on local train", started)
        users = np.intersect1d(local_train.active_users(), local_validation.active_users())
        if len(users) > self.config.ranker.max_customers:
            rng = np.random.default_rng(self.config.seed)
            users = np.sort(rng.choice(users, self.config.ranker.max_customers, replace=False))
        candidates = self._candidates(sources, users)
        keys = candidates[Columns.USER].to_numpy(np.int64) * data.n_items + candidates[Columns.ITEM]
        groups = candidates[Columns.USER].to_numpy()
        labels = np.isin(keys, local_validation.pair_keys()).astype(np.float32)
        table = self._features(features, candidates, sources)
        del sources, features
        _log_step("ranker's candidates and features", started, rows=len(table))
        self._ranker = self._make_ranker(self.config.ranker).fit(table, labels, groups)
        _log_step("ranker", started, **self._ranker.scores)
        if self.config.discovery_ranker is not None:
            new = ~np.isin(keys, local_train.pair_keys())
            self._discovery_ranker = self._fit_discovery(
                self.config.discovery_ranker,
                table[new],
                discovery_labels(keys[new], local_validation),
                groups[new],
            )
        del table, candidates
        if self._discovery_ranker is not None:
            _log_step("discovery ranker", started, **self._discovery_ranker.scores)

        self._data = data
        self._sources = self._fit_stage_one(data)
        self.features = FeatureBuilder(self.config.history.half_life_days).fit(
            data, self.item_categories
        )
        cooc = self._sources["cooc"]
        self._explainer = Explainer(
            data, cooc.profile, cooc.similar, self.item_categories, self.category_names
        )
        _log_step("stage one on all events", started)
        return self

    def _make_ranker(self, config: RankerConfig) -> Ranker:
        return Ranker(
            n_estimators=config.trees,
            learning_rate=config.learning_rate,
            num_leaves=config.leaves,
            negatives=config.negatives,
            early_stopping_rounds=config.patience,
            bags=config.bags,
            threads=self.config.threads,
            seed=self.config.seed,
        )

    def _fit_discovery(
        self, config: RankerConfig, table: pd.DataFrame, labels: np.ndarray, groups: np.ndarray
    ) -> Ranker | None:
        """The ranker of new products.

        None (the main ranker orders them) when no customer took a new candidate in the
        local validation period.
        """
        try:
            return self._make_ranker(config).fit(table, labels, groups)
        except RankerError as exc:
            log.warning("no discovery ranker, the main one orders new products: %s", exc)
            return None

    @staticmethod
    def _categories(
        data: Interactions, items: pd.DataFrame | None
    ) -> tuple[np.ndarray | None, pd.Index | None]:
        """A category code per item (−1 = none) and the category names, from the catalog."""
        if items is None or Columns.ITEM not in items or ItemColumns.CATEGORY not in items:
            return None, None
        category = items.set_index(items[Columns.ITEM].astype(str))[ItemColumns.CATEGORY].fillna("")
        category = category[~category.index.duplicated()].reindex(data.items).fillna("")
        codes, names = pd.factorize(category.where(category != "", None))
        return codes, pd.Index(names.astype(str))

    def _candidates(self, sources: dict[str, CandidateSource], users: np.ndarray) -> pd.DataFrame:
        """The union of every source's candidates.

        One row per (user, item), a score and rank column per source (NaN where the source did not
        propose the item).
        """
        n_items = self._n_items
        frames = {
            name: sources[name].candidates(users, self.config.candidates(name))
            for name in self.config.sources
        }
        keys = {
            name: frame[Columns.USER].to_numpy(np.int64) * n_items + frame[Columns.ITEM].to_numpy()
            for name, frame in frames.items()
        }
        union = np.unique(np.concatenate(list(keys.values())))
        out = {
            Columns.USER: (union // n_items).astype(np.int32),
            Columns.ITEM: (union % n_items).astype(np.int32),
        }
        for name, frame in frames.items():
            where = np.searchsorted(union, keys[name])
            for value in (Columns.SCORE, Columns.RANK):
                column = np.full(len(union), np.nan, dtype=np.float32)
                column[where] = frame[value].to_numpy(np.float32)
                out[f"{name}_{value}"] = column
        return pd.DataFrame(out)

    def _features(
        self,
        builder: FeatureBuilder,
        candidates: pd.DataFrame,
        sources: dict[str, CandidateSource],
    ) -> pd.DataFrame:
        """The ranker's input: each source's score and rank, and more.

        Every pair's co-occurrence and ALS score (proposed by them or not: what the discovery
        ranker compares new products on), and `builder`'s features.
        """
        source_columns = [
            f"{n}_{v}" for n in self.config.sources for v in (Columns.SCORE, Columns.RANK)
        ]
        user = candidates[Columns.USER].to_numpy()
        item = candidates[Columns.ITEM].to_numpy()
        cooc = sources["cooc"]
        pair = {
            "cooc_pair": cooc.pair_scores(user, item),
            "last_item_similarity": cooc.last_item_similarity(user, item),
        }
        if "als" in sources:
            pair["als_pair"] = sources["als"].pair_scores(user, item)
        return pd.concat(
            [
                candidates[source_columns].astype(np.float32),
                pd.DataFrame(pair, index=candidates.index),
                builder.transform(candidates),
            ],
            axis=1,
        )

    def for_customers(self, events: pd.DataFrame) -> "TwoStageRecommender":
        """The fitted model, knowing the customers of `events` instead of its own.

        What it learned of products and the rankers are kept; each customer's history, profile,
        features and reasons come from `events` (the reader's frame). The Spark engine scores
        each partition of customers through this and `recommend`, as the default engine does
        all customers.
        """
        data = self._require_fitted()
        copy = TwoStageRecommender(self.config)
        copy._n_items, copy._ranker = self._n_items, self._ranker
        copy._discovery_ranker = self._discovery_ranker
        copy.item_categories, copy.category_names = self.item_categories, self.category_names
        try:
            shard = Interactions.from_events(events, self.config.event_weights, data.items)
        except InputError:  # no event names a fitted product: every customer gets the fallback
            shard = replace(data.select(np.zeros(len(data), bool)), users=data.users[:0])
            copy._data = shard
            copy._sources, copy.features = self._sources, self.features
        else:
            copy._data = shard = replace(shard, now=data.now)
            copy._sources = {
                name: source.for_customers(shard, data.users)
                for name, source in self._sources.items()
            }
            copy.features = self.features.for_customers(shard)
        cooc = copy._sources["cooc"]
        copy._explainer = Explainer(
            shard, cooc.profile, cooc.similar, self.item_categories, self.category_names
        )
        return copy

    def set_product_state(
        self,
        items: np.ndarray,
        popularity: np.ndarray,
        statistics: dict[str, np.ndarray],
        customers: int,
        similar: sp.csr_matrix,
    ) -> None:
        """Set product popularity, statistics, the customer count and neighbours from more events.

        Those of `items` (codes), counted over more events than were fitted on (the Spark
        engine's: all of them); `similar` replaces the co-occurrence neighbours of every product.
        """
        self._require_fitted()
        popular = self._sources["popular"]
        popular.item_scores = popular.item_scores.copy()
        popular.item_scores[items] = popularity
        for name, values in statistics.items():
            column = self.features.item[name].copy()
            column[items] = values
            self.features.item[name] = column
        self.features.n_users = customers
        self._sources["cooc"].set_similar(similar)

    def without_events(self, threads: int | None = None) -> "TwoStageRecommender":
        """The fitted model without its event arrays (ids and what was learned stay).

        The smaller copy the Spark engine broadcasts to its executors, scoring on `threads`
        threads (one per Spark task) instead of the driver's.
        """
        data = self._require_fitted()
        copy = object.__new__(TwoStageRecommender)
        copy.__dict__.update(self.__dict__)
        copy._data = data.select(np.zeros(len(data), bool))
        copy._explainer = None  # holds every customer's events; `for_customers` makes a shard's
        if threads is not None:
            copy._ranker = object.__new__(Ranker)
            copy._ranker.__dict__.update(self._ranker.__dict__)
            copy._ranker.params = {**self._ranker.params, "n_jobs": threads}
            copy._sources = {}
            for name, source in self._sources.items():
                copy._sources[name] = object.__new__(type(source))
                copy._sources[name].__dict__.update(source.__dict__)
                if hasattr(source, "threads"):
                    copy._sources[name].threads = threads
        return copy

    def _require_fitted(self) -> Interactions:
        if self._data is None or self._ranker is None:
            raise NotFittedError("the recommender is not fitted: call fit first")
        return self._data

    def recommend(
        self,
        users: Sequence[str],
        k: int,
        exclude_seen: bool = False,
        chunk: int = RECOMMEND_CHUNK,
        discovery: bool = False,
    ) -> pd.DataFrame:
        """K products per customer, best first; customers unknown to the model get popular ones.

        `exclude_seen` drops the products each customer already interacted with; `discovery`
        orders only those new to the customer with the discovery ranker. Customers are scored
        `chunk` at a time, each chunk cut to its top k before the next, so memory is bounded by
        the chunk and the result, whatever the number of customers.
        """
        lists = self._recommend(users, k, chunk, exclude_seen, reasons=False)
        return lists.discovery if discovery else lists.repeat

    def recommend_lists(
        self, users: Sequence[str], k: int, chunk: int = RECOMMEND_CHUNK
    ) -> RecommenderLists:
        """Both published orders, with the reason of each product, from one pass of candidates."""
        return self._recommend(users, k, chunk, exclude_seen=False, reasons=True)

    def _recommend(
        self, users: Sequence[str], k: int, chunk: int, exclude_seen: bool, reasons: bool
    ) -> RecommenderLists:
        data = self._require_fitted()
        if k < 1:
            raise TrainerError(f"k must be at least 1, got {k}")
        users = pd.Index(pd.unique(np.asarray(users, dtype=object).astype(str)))
        codes = data.users.get_indexer(users)
        all_codes = np.where(codes >= 0, codes, data.n_users + np.arange(len(users)))
        seen = data.matrix(np.ones(len(data), np.float32))
        starts = range(0, len(users), chunk)
        parts = [
            self.recommend_codes(all_codes[start : start + chunk], k, seen, exclude_seen, reasons)
            for start in progress(starts, desc="recommending", total=len(starts), unit=" chunks")
        ] or [self.recommend_codes(all_codes, k, seen, exclude_seen, reasons)]
        index = np.full(data.n_users + len(users), -1)
        index[all_codes] = np.arange(len(users))

        def decoded(ranked: pd.DataFrame) -> pd.DataFrame:
            user, item = ranked[Columns.USER].to_numpy(), ranked[Columns.ITEM].to_numpy()
            frame = pd.DataFrame(
                {
                    Columns.USER: users.to_numpy()[index[user]],
                    Columns.ITEM: data.items.to_numpy()[item],
                    Columns.SCORE: ranked[Columns.SCORE].to_numpy(np.float32),
                    Columns.RANK: ranked[Columns.RANK].to_numpy(np.int32),
                }
            )
            if reasons:
                frame[Columns.REASON] = ranked[Columns.REASON].to_numpy()
            return frame

        return RecommenderLists(
            *(decoded(pd.concat(lists, ignore_index=True)) for lists in zip(*parts, strict=True))
        )

    def recommend_codes(
        self,
        codes: np.ndarray,
        k: int,
        seen: sp.csr_matrix,
        exclude_seen: bool = False,
        reasons: bool = False,
    ) -> RecommenderLists:
        """Both orders' top k of one chunk of user codes, on codes.

        Codes past the model's users are unknown users; a reason column comes when `reasons`.

        `seen`: users × items, non-zero where the user interacted; only the chunk's rows of it are
        read. The repeat order keeps seen products unless `exclude_seen`; the discovery order
        never does.
        """
        data = self._require_fitted()
        known = codes[codes < data.n_users]
        ranked = None
        seen_keys = np.array([], np.int64)
        if len(known):
            ranked = self._candidates(self._sources, known)
            table = self._features(self.features, ranked, self._sources)
            repeat_score = self._ranker.predict(table)
            ranker = self._discovery_ranker or self._ranker
            new_score = repeat_score if ranker is self._ranker else ranker.predict(table)
            rows = seen[known].tocoo()
            seen_keys = known[rows.row].astype(np.int64) * data.n_items + rows.col
            ranked = ranked[[Columns.USER, Columns.ITEM]]
        none = np.array([], np.int64)
        lists = RecommenderLists(
            self._top_up(
                None if ranked is None else ranked.assign(**{Columns.SCORE: repeat_score}),
                codes,
                k,
                seen_keys if exclude_seen else none,
            ),
            self._top_up(
                None if ranked is None else ranked.assign(**{Columns.SCORE: new_score}),
                codes,
                k,
                seen_keys,
            ),
        )
        if reasons:
            for frame in lists:
                frame[Columns.REASON] = self._explainer.explain(
                    frame[Columns.USER].to_numpy(), frame[Columns.ITEM].to_numpy()
                )
        return lists

    def _top_up(
        self, ranked: pd.DataFrame | None, users: np.ndarray, k: int, seen: np.ndarray
    ) -> pd.DataFrame:
        """Best k per user from the ranked rows, then popular products for the users still short.

        `seen`: user × item keys never to recommend (empty unless seen products are excluded).
        Filler scores continue below the lowest ranked score, so score order is rank order.
        """
        data = self._require_fitted()
        n_items = data.n_items
        users = np.asarray(users, dtype=np.int64)
        if ranked is None:
            ranked = pd.DataFrame({Columns.USER: [], Columns.ITEM: [], Columns.SCORE: []})
        user = ranked[Columns.USER].to_numpy(np.int64)
        item = ranked[Columns.ITEM].to_numpy(np.int64)
        score = ranked[Columns.SCORE].to_numpy(np.float64)
        if len(seen):
            keep = ~np.isin(user * n_items + item, seen)
            user, item, score = user[keep], item[keep], score[keep]
        order = np.lexsort((-score, user))
        user, item, score = user[order], item[order], score[order]
        rank = rank_within_groups(user)
        best = rank <= k
        user, item, score, rank = user[best], item[best], score[best], rank[best]

        have = np.zeros(int(users.max(initial=0)) + 1, np.int64)
        np.add.at(have, user, 1)
        short = users[have[users] < k]
        if len(short):
            popular, _ = self._sources["popular"].top(2 * k + (200 if len(seen) else 0))
            fill_user = np.repeat(short, len(popular))
            fill_item = np.tile(popular.astype(np.int64), len(short))
            taken = np.concatenate([user * n_items + item, seen])
            fresh = ~np.isin(fill_user * n_items + fill_item, taken)
            fill_user, fill_item = fill_user[fresh], fill_item[fresh]
            fill_rank = rank_within_groups(fill_user) + have[fill_user]
            fits = fill_rank <= k
            floor = score.min(initial=0.0)
            user = np.concatenate([user, fill_user[fits]])
            item = np.concatenate([item, fill_item[fits]])
            rank = np.concatenate([rank, fill_rank[fits]])
            score = np.concatenate([score, floor - fill_rank[fits]])
            order = np.lexsort((rank, user))
            user, item, score, rank = user[order], item[order], score[order], rank[order]
        return pd.DataFrame(
            {Columns.USER: user, Columns.ITEM: item, Columns.SCORE: score, Columns.RANK: rank}
        )

    def similar_items(self, k: int) -> pd.DataFrame:
        """Each product's (target item's) k nearest products by co-occurrence in histories."""
        data = self._require_fitted()
        similar = self._sources["cooc"].similar_items(k)
        return pd.DataFrame(
            {
                Columns.TARGET_ITEM: data.items.to_numpy()[similar[Columns.TARGET_ITEM].to_numpy()],
                Columns.ITEM: data.items.to_numpy()[similar[Columns.ITEM].to_numpy()],
                Columns.SCORE: similar[Columns.SCORE].to_numpy(np.float32),
                Columns.RANK: similar[Columns.RANK].to_numpy(np.int32),
            }
        )

    def popular(self, k: int) -> pd.DataFrame:
        """The fallback list: the k most popular products lately."""
        data = self._require_fitted()
        items, scores = self._sources["popular"].top(k)
        return pd.DataFrame(
            {
                Columns.ITEM: data.items.to_numpy()[items],
                Columns.SCORE: scores,
                Columns.RANK: np.arange(1, len(items) + 1, dtype=np.int32),
            }
        )

    def stage_one(self, users: Sequence[str], n: int) -> dict[str, pd.DataFrame]:
        """Each candidate source's own top n per known customer (user, item, rank).

        The lists the ranker reorders, to be scored alone.
        """
        data = self._require_fitted()
        codes = data.users.get_indexer(pd.Index(users).astype(str))
        codes = codes[codes >= 0]
        return {
            name: data.decode(source.candidates(codes, n)) for name, source in self._sources.items()
        }

    def diagnostics(self) -> Diagnostics:
        data = self._require_fitted()
        discovery = self._discovery_ranker.scores if self._discovery_ranker else {}
        return Diagnostics(data=data, ranker=dict(self._ranker.scores), discovery_ranker=discovery)

    def feature_importance(self) -> pd.Series:
        """The ranker's gain per feature (shares summing to 1), largest first."""
        self._require_fitted()
        return self._ranker.feature_importance()
