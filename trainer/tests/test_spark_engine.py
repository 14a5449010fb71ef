"""The Spark engine against the default one, on a local Spark (local[2]) and a real Redis.

Slow (Spark starts a JVM); skipped with the reason where pyspark or a Java runtime is missing.
"""

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
import redis
import scipy.sparse as sp

from vitrina_shared.catalog import read_items
from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_layout import decode_ranking
from vitrina_shared.schema import Columns
from vitrina_trainer.candidates import cosine_neighbours
from vitrina_trainer.generator import GeneratorConfig, write_dataset
from vitrina_trainer.interactions import Interactions
from vitrina_trainer.pipeline import run as run_default
from vitrina_trainer.recommender import (
    ALSConfig,
    LightFMConfig,
    RankerConfig,
    RecommenderConfig,
    TwoStageRecommender,
)
from vitrina_trainer.settings import TrainerSettings
from vitrina_trainer.spark.session import java_missing_reason

pytestmark = [
    pytest.mark.slow,
    # pyspark leaves py4j's sockets to the garbage collector: not ours to close.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

CONFIG = RecommenderConfig(
    threads=1,
    als=ALSConfig(iterations=3, factors=8),
    lightfm=LightFMConfig(epochs=2, factors=8),
    ranker=RankerConfig(trees=20),
)


@pytest.fixture(scope="module")
def spark():
    if reason := java_missing_reason():
        pytest.skip(reason)
    from vitrina_trainer.spark.session import spark_session

    session = spark_session("local[2]", "vitrina-trainer-tests")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    write_dataset(GeneratorConfig(users=300, items=120, days=14, seed=3), out)
    return out


def settings_for(redis_url: str, tmp_path: Path, **more: object) -> TrainerSettings:
    values = {"REDIS_URL": redis_url, "DATA_DIR": tmp_path, "TRAINER_TOP_K": 50}
    return TrainerSettings(
        **{**values, "TRAINER_THREADS": 1, "TRAINER_SPARK_PARTITIONS": 3, **more}
    )


def user_lists(store: ModelStore, version: str) -> dict[bytes, bytes]:
    lists: dict[bytes, bytes] = {}
    for key in store.keys.user_hashes(version):
        lists.update(store.client.hgetall(key))
    return lists


def run_spark(settings: TrainerSettings, spark, dataset: Path, **more: object):
    from vitrina_trainer.spark.engine import run

    events = [str(dataset / "events.csv.gz")]
    return run(settings, spark, events, dataset / "items.csv", config=CONFIG, **more)


def test_spark_publishes_the_default_engines_lists(spark, dataset, redis_url, tmp_path):
    settings = settings_for(redis_url, tmp_path)
    events, items = [dataset / "events.csv.gz"], dataset / "items.csv"
    default = run_default(settings, events, items, None, CONFIG)
    on_spark = run_spark(settings, spark, dataset, chunk_events=1_000)

    assert on_spark.data.model_dump() == default.data.model_dump()
    assert len(on_spark.shards) == 3
    assert sum(shard.users for shard in on_spark.shards) == default.published.users
    with ModelStore.from_url(redis_url) as store:
        old, new = default.published.version, on_spark.published.version
        assert store.active_version() == new
        expected = user_lists(store, old)
        assert len(expected) == default.data.users
        assert user_lists(store, new) == expected
        for key in (store.keys.similar, store.keys.fallbacks):
            assert store.client.hgetall(key(new)) == store.client.hgetall(key(old))
        buyer = next(user for user, blob in expected.items() if decode_ranking(blob).bought)
        assert decode_ranking(user_lists(store, new)[buyer]).bought


def test_spark_on_a_redis_cluster(spark, dataset, redis_cluster_url, tmp_path):
    settings = settings_for(redis_cluster_url, tmp_path, REDIS_CLUSTER=True)
    done = run_spark(settings, spark, dataset)
    with ModelStore.connect(settings) as store:
        assert store.active_version() == done.published.version
        assert len(user_lists(store, done.published.version)) == done.data.users == 300


def test_a_sampled_fit_counts_products_over_all_events(spark, dataset):
    """The product side recomputed on Spark equals the one fitted on every event."""
    from vitrina_shared.events import read_events
    from vitrina_trainer.spark.fit import item_state_on_spark
    from vitrina_trainer.spark.reader import read_events as read_on_spark

    model = TwoStageRecommender(CONFIG).fit(read_events(dataset / "events.csv.gz").events)
    expected = {name: values.copy() for name, values in model.features.item.items()}
    popularity = model.popular(120)
    similar = model.similar_items(10)
    loaded = read_on_spark(spark, [str(dataset / "events.csv.gz")])
    model.features.item = {name: values * 0 for name, values in expected.items()}
    model._sources["cooc"].set_similar(sp.csr_matrix((120, 120), dtype=np.float32))
    item_state_on_spark(loaded.frame, model, loaded.summary.users, 3)
    pd.testing.assert_frame_equal(model.similar_items(10), similar)
    for name, values in expected.items():
        assert model.features.item[name] == pytest.approx(values, nan_ok=True, rel=1e-6)
    again = model.popular(120)
    assert again[Columns.ITEM].tolist() == popularity[Columns.ITEM].tolist()
    assert again[Columns.SCORE].to_numpy() == pytest.approx(popularity[Columns.SCORE].to_numpy())


def test_spark_counts_the_default_engines_neighbours_ties_included(spark, dataset):
    """Neighbours counted on Spark are the default engine's, float for float, in the same order."""
    from vitrina_shared.events import read_events
    from vitrina_trainer.spark.neighbours import neighbours_on_spark
    from vitrina_trainer.spark.reader import read_events as read_on_spark

    catalog = pd.Index(read_items(dataset / "items.csv")[Columns.ITEM])
    data = Interactions.from_events(read_events(dataset / "events.csv.gz").events, items=catalog)
    matrix = data.matrix()
    k = 5
    expected = cosine_neighbours(matrix, k)
    everything = cosine_neighbours(matrix, data.n_items).toarray()
    ranked = -np.sort(-everything, axis=1)
    assert (ranked[:, k - 1] == ranked[:, k])[ranked[:, k] > 0].any()  # ties decide who is in

    loaded = read_on_spark(spark, [str(dataset / "events.csv.gz")])
    on_spark = neighbours_on_spark(loaded.frame, data.items, k, 3)

    assert expected.nnz > k * 100
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(on_spark, part), getattr(expected, part))


def test_bad_rows_are_counted_like_the_reader(spark, tmp_path):
    from vitrina_shared.events import read_events
    from vitrina_trainer.spark.reader import read_events as read_on_spark

    path = tmp_path / "events.csv"
    path.write_text(
        "utc_event_time,user_id,event_type,ecom.price100,ecom.qty,ecom.nm\n"
        "2024-01-01T10:00:00Z,u1,view_item,100,1,p1\n"
        "2024-01-01T10:00:00Z,u1,view_item,100,1,p1\n"
        "2024-01-01T11:00:00Z,,view_item,100,1,p1\n"
        "not a time,u2,view_item,100,1,p1\n"
        "2024-01-01T12:00:00Z,u2,ec.purchase,-5,1,p2\n"
        "2024-01-01T12:00:00Z,u3,ec.add_to_cart,300,2,p3\n"
    )
    log = read_events(path)
    loaded = read_on_spark(spark, [str(path)])
    assert loaded.summary.rows_read == log.rows_read == 6
    assert loaded.summary.rows_skipped == log.rows_skipped == 4
    assert loaded.summary.events == len(log.events) == 2


def _spark_workers() -> list[psutil.Process]:
    """The Python workers of this test process's own Spark (under its JVM)."""
    workers = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "pyspark.daemon" in child.cmdline() or "pyspark.worker" in child.cmdline():
                workers.append(child)
        except psutil.Error:  # gone, or a zombie already
            continue
    return workers


def test_a_killed_task_leaves_the_old_version_serving(spark, dataset, redis_url, tmp_path):
    settings = settings_for(redis_url, tmp_path, TRAINER_SPARK_PARTITIONS=6)
    old = run_spark(settings, spark, dataset).published.version
    failed: list[BaseException] = []

    def doomed() -> None:
        try:
            run_spark(settings, spark, dataset, chunk_events=200)
        except BaseException as exc:  # the run must fail; the test checks how it failed
            failed.append(exc)

    thread = threading.Thread(target=doomed)
    thread.start()
    client = redis.Redis.from_url(redis_url)
    store = ModelStore(client)
    deadline = time.monotonic() + 120
    staged = None
    while time.monotonic() < deadline and staged is None:
        building = [v for v in store.unfinished_versions() if v != old]
        if building and client.hlen(store.keys.users(building[0])) > 0:
            staged = building[0]
        time.sleep(0.01)
    assert staged, "the run never started publishing"
    client.execute_command("CLIENT", "PAUSE", 2000, "WRITE")  # executors stop mid-publish
    for worker in _spark_workers():
        worker.kill()
    client.execute_command("CLIENT", "UNPAUSE")
    thread.join(timeout=120)

    assert failed, "the run went on after its task was killed"
    assert "Python worker exited" in str(failed[0])
    assert store.active_version() == old
    assert decode_ranking(next(iter(user_lists(store, old).values()))).items
    store.prune()
    assert not any(client.exists(key) for key in store.keys.version_keys(staged))
    assert store.unfinished_versions() == []
    assert store.lock_holder() is None
    client.close()
