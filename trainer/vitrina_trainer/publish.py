"""Publishing a fitted model to Redis: every user's top-k, similar products, fallbacks, metadata.

Everything is written aside as a new version through `ModelStore` and switched on by one
`activate`; any failure (or Ctrl-C, or SIGTERM turned into SystemExit by the CLI) aborts the
half-written version, so the previous one keeps serving. Rankings are grouped with numpy sorts;
the only per-user Python is slicing and encoding each user's blob.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import redis

from vitrina_shared.model_meta import Counts, ModelMeta
from vitrina_shared.model_store import LOCK_SECONDS, ModelStore, PublishError, VersionWriter
from vitrina_shared.redis_layout import POPULAR, Ranking, encode_ranking
from vitrina_shared.schema import Columns, EventType
from vitrina_trainer.stages import progress

log = logging.getLogger(__name__)

BOUGHT_KEPT = 500
# While a run trains, its publishing lock is renewed this often: well inside its expiry.
RENEW_SECONDS = LOCK_SECONDS / 5


@dataclass(frozen=True)
class Published:
    version: str
    users: int
    similar: int
    fallbacks: int
    seconds: float


def _labels(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their labels as Python strings (ids are never numbers)."""
    if isinstance(values.dtype, pd.CategoricalDtype):  # already coded: no need to hash again
        return values.cat.codes.to_numpy(), values.cat.categories.astype(str).to_numpy(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    labels = pd.Index(uniques).astype(str).to_numpy(dtype=object)
    return codes, labels


@dataclass(frozen=True)
class _Groups:
    """A ranking frame sorted by key and rank, as lists, with each key's slice."""

    names: list[str]
    starts: list[int]
    ends: list[int]
    items: list[str]
    scores: np.ndarray
    reasons: list[str]

    def ranking(self, start: int, end: int) -> Ranking:
        return Ranking(
            self.items[start:end], self.scores[start:end], reasons=self.reasons[start:end]
        )


def _groups(frame: pd.DataFrame, key: str, item: str) -> _Groups:
    key_codes, keys = _labels(frame[key])
    item_codes, items = _labels(frame[item])
    rank = frame[Columns.RANK].to_numpy(dtype=np.int64)
    position = key_codes.astype(np.int64) * (int(rank.max()) + 1) + rank
    scores = frame[Columns.SCORE].to_numpy(dtype=np.float64)
    reasons = (
        frame[Columns.REASON].astype(str).to_numpy(dtype=object)
        if Columns.REASON in frame
        else None
    )
    if not np.all(position[1:] >= position[:-1]):  # models usually return it sorted already
        order = np.argsort(position, kind="stable")
        key_codes, item_codes, scores = key_codes[order], item_codes[order], scores[order]
        reasons = None if reasons is None else reasons[order]
    starts = np.flatnonzero(np.r_[True, key_codes[1:] != key_codes[:-1]])
    ends = np.r_[starts[1:], len(key_codes)]
    return _Groups(
        names=keys[key_codes[starts]].tolist(),
        starts=starts.tolist(),
        ends=ends.tolist(),
        items=items[item_codes].tolist(),
        scores=scores,
        reasons=[] if reasons is None else reasons.tolist(),
    )


def rankings(
    frame: pd.DataFrame,
    key: str,
    item: str,
    bought: pd.DataFrame | None = None,
    discovery: pd.DataFrame | None = None,
) -> Iterator[tuple[str, bytes]]:
    """(key, encoded ranking) per distinct `key`, its items ordered by `rank`.

    Each ranking has its reasons when `frame` has a reason column.

    `bought` (key and item columns, in the order to keep) is attached to the key's ranking, and
    so is the key's ranking in `discovery` (same columns as `frame`).
    """
    if frame.empty:
        return
    main = _groups(frame, key, item)
    names = pd.Index(main.names)

    if bought is not None and not bought.empty:
        owner = names.get_indexer(bought[key].astype(str))
        kept = owner >= 0
        owner = owner[kept]
        by_owner = np.argsort(owner, kind="stable")
        owner = owner[by_owner]
        bought_list = bought[item].astype(str).to_numpy(dtype=object)[kept][by_owner].tolist()
        group = np.arange(len(names))
        bought_starts = np.searchsorted(owner, group, "left").tolist()
        bought_ends = np.searchsorted(owner, group, "right").tolist()
    else:
        bought_list = []
        bought_starts = bought_ends = [0] * len(names)

    if discovery is not None and not discovery.empty:
        new = _groups(discovery, key, item)
        new_group = pd.Index(new.names).get_indexer(names).tolist()
    else:
        new = None
        new_group = [-1] * len(names)

    for name, start, end, b_start, b_end, n in zip(
        main.names, main.starts, main.ends, bought_starts, bought_ends, new_group, strict=True
    ):
        yield (
            name,
            encode_ranking(
                main.items[start:end],
                main.scores[start:end],
                bought_list[b_start:b_end],
                main.reasons[start:end],
                new.ranking(new.starts[n], new.ends[n]) if n >= 0 else None,
            ),
        )


def bought_items(events: pd.DataFrame, keep: int = BOUGHT_KEPT) -> pd.DataFrame:
    """Each user's distinct purchased products, newest first, at most `keep` per user."""
    purchases = events.loc[
        events[Columns.EVENT] == EventType.PURCHASE, [Columns.USER, Columns.ITEM, Columns.DATETIME]
    ]
    latest = (
        purchases.sort_values(Columns.DATETIME, ascending=False, kind="stable")
        .drop_duplicates([Columns.USER, Columns.ITEM])
        .reset_index(drop=True)
    )
    latest = latest[latest.groupby(Columns.USER, observed=True).cumcount() < keep]
    return latest[[Columns.USER, Columns.ITEM]].reset_index(drop=True)


def publish(
    store: ModelStore,
    recommendations: pd.DataFrame,
    similar: pd.DataFrame,
    popular: pd.DataFrame,
    meta: ModelMeta,
    bought: pd.DataFrame | None = None,
    keep: int = 3,
    writer: VersionWriter | None = None,
    discovery: pd.DataFrame | None = None,
) -> Published:
    """Write a new version and activate it; on any failure abort it and re-raise; then prune.

    `recommendations`: user, item, score, rank (and reason); `discovery`: the same columns, the
    products new to each user, published inside each user's ranking; `similar`: target item
    (the product asked about), item, score, rank; `popular`: item, score, rank; `bought`: user,
    item. `writer`: the version begun (its lock taken) before training; a new one is begun when
    not given.
    """
    n_users = recommendations[Columns.USER].nunique()

    def write_users(writer: VersionWriter) -> int:
        return writer.write_users(
            progress(
                rankings(recommendations, Columns.USER, Columns.ITEM, bought, discovery),
                desc="publishing users",
                total=n_users,
                unit=" users",
            )
        )

    return publish_version(store, write_users, similar, popular, meta, keep, writer=writer)


def publish_version(
    store: ModelStore,
    write_users: Callable[[VersionWriter], int],
    similar: pd.DataFrame,
    popular: pd.DataFrame,
    meta: ModelMeta,
    keep: int = 3,
    writers_elsewhere: bool = False,
    writer: VersionWriter | None = None,
) -> Published:
    """`publish`, the users' lists written by `write_users(writer)`, which returns how many.

    `writers_elsewhere`: other processes write with the version's id (Spark's executors); a
    failed version then stays registered as unfinished, so the next `prune` also deletes what
    a straggler wrote after the abort. `writer`: the version begun before training, if any.
    """
    started = time.perf_counter()
    n_similar = similar[Columns.TARGET_ITEM].nunique()
    writer = writer or store.begin()
    try:
        users = write_users(writer)
        similar_written = writer.write_similar(
            progress(
                rankings(similar, Columns.TARGET_ITEM, Columns.ITEM),
                desc="publishing similar",
                total=n_similar,
                unit=" items",
            )
        )
        ordered = popular.sort_values(Columns.RANK, kind="stable")
        fallbacks = writer.write_fallbacks(
            [
                (
                    POPULAR,
                    encode_ranking(
                        ordered[Columns.ITEM].astype(str).tolist(),
                        ordered[Columns.SCORE].to_numpy(),
                    ),
                )
            ]
        )
        stored = meta.model_copy()
        stored.version, stored.published_at = writer.version, datetime.now(UTC)
        stored.fallbacks = [POPULAR]
        stored.counts = Counts(users=users, similar=similar_written, fallbacks=fallbacks)
        writer.write_meta(stored.dump())
        store.activate(writer.version)
    except BaseException:
        log.error("publishing version %s failed: dropping it", writer.version)
        with contextlib.suppress(redis.RedisError):
            store.abort(writer, keep_registered=writers_elsewhere)
        raise
    seconds = time.perf_counter() - started
    log.info(
        "published version %s: %d users, %d similar lists in %.1f s",
        writer.version,
        users,
        similar_written,
        seconds,
    )
    pruned = store.prune(keep)
    if pruned:
        log.info("pruned versions %s", ", ".join(pruned))
    return Published(writer.version, users, similar_written, fallbacks, seconds)


class LockKeeper:
    """Renews a version's publishing lock from a thread while the run trains, until `stop`.

    Training takes longer than the lock lives unrenewed; the lock was taken first so a second run
    fails fast.
    """

    def __init__(self, writer: VersionWriter, every: float = RENEW_SECONDS):
        self.writer, self.every = writer, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="publishing-lock", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.writer.renew_lock()
            except (PublishError, redis.RedisError) as exc:
                log.warning("could not renew the publishing lock: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
