"""Publishing a fitted model to Redis: every user's top-k, similar products, fallbacks, metadata.

Everything is written aside as a new version through `ModelStore` and switched on by one
`activate`; any failure (or Ctrl-C, or SIGTERM turned into SystemExit by the CLI) aborts the
half-written version, so the previous one keeps serving. Rankings are grouped with numpy sorts;
the only per-user Python is slicing and encoding each user's blob.
"""

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import redis

from vitrina_shared.model_meta import Counts, ModelMeta
from vitrina_shared.model_store import ModelStore, VersionWriter
from vitrina_shared.redis_layout import POPULAR, encode_ranking
from vitrina_shared.schema import Columns, EventType
from vitrina_trainer.stages import progress

log = logging.getLogger(__name__)

BOUGHT_KEPT = 500


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


def rankings(
    frame: pd.DataFrame, key: str, item: str, bought: pd.DataFrame | None = None
) -> Iterator[tuple[str, bytes]]:
    """(key, encoded ranking) per distinct `key`, its items ordered by `rank`.

    `bought` (key and item columns, in the order to keep) is attached to the key's ranking.
    """
    if frame.empty:
        return
    key_codes, keys = _labels(frame[key])
    item_codes, items = _labels(frame[item])
    rank = frame[Columns.RANK].to_numpy(dtype=np.int64)
    position = key_codes.astype(np.int64) * (int(rank.max()) + 1) + rank
    scores = frame[Columns.SCORE].to_numpy(dtype=np.float64)
    if not np.all(position[1:] >= position[:-1]):  # models usually return it sorted already
        order = np.argsort(position, kind="stable")
        key_codes, item_codes, scores = key_codes[order], item_codes[order], scores[order]
    sorted_keys = key_codes
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], len(sorted_keys)]
    item_list = items[item_codes].tolist()

    if bought is not None and not bought.empty:
        owner = pd.Index(keys).get_indexer(bought[key].astype(str))
        kept = owner >= 0
        owner = owner[kept]
        by_owner = np.argsort(owner, kind="stable")
        owner = owner[by_owner]
        bought_list = bought[item].astype(str).to_numpy(dtype=object)[kept][by_owner].tolist()
        group_keys = sorted_keys[starts]
        bought_starts = np.searchsorted(owner, group_keys, "left").tolist()
        bought_ends = np.searchsorted(owner, group_keys, "right").tolist()
    else:
        bought_list = []
        bought_starts = bought_ends = [0] * len(starts)

    for name, start, end, b_start, b_end in zip(
        keys[sorted_keys[starts]].tolist(),
        starts.tolist(),
        ends.tolist(),
        bought_starts,
        bought_ends,
        strict=True,
    ):
        yield (
            name,
            encode_ranking(item_list[start:end], scores[start:end], bought_list[b_start:b_end]),
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
) -> Published:
    """Write a new version and activate it; on any failure abort it and re-raise; then prune.

    `recommendations`: user, item, score, rank; `similar`: target item (the product asked
    about), item, score, rank; `popular`: item, score, rank; `bought`: user, item.
    """
    n_users = recommendations[Columns.USER].nunique()

    def write_users(writer: VersionWriter) -> int:
        return writer.write_users(
            progress(
                rankings(recommendations, Columns.USER, Columns.ITEM, bought),
                desc="publishing users",
                total=n_users,
                unit=" users",
            )
        )

    return publish_version(store, write_users, similar, popular, meta, keep)


def publish_version(
    store: ModelStore,
    write_users: Callable[[VersionWriter], int],
    similar: pd.DataFrame,
    popular: pd.DataFrame,
    meta: ModelMeta,
    keep: int = 3,
    writers_elsewhere: bool = False,
) -> Published:
    """`publish`, the users' lists written by `write_users(writer)`, which returns how many.

    `writers_elsewhere`: other processes write with the version's id (Spark's executors); a
    failed version then stays registered as unfinished, so the next `prune` also deletes what
    a straggler wrote after the abort.
    """
    started = time.perf_counter()
    n_similar = similar[Columns.TARGET_ITEM].nunique()
    writer = store.begin()
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
