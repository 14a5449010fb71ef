"""`make bench-scale`.

The default engine against Spark local[2] as customers grow 4x, and the paper figures of a
marketplace-size nightly run derived from the measured per-shard costs.

1. Synthetic data (`vitrina-trainer generate`) of 100k, 200k and 400k customers over 20,000
products and 4 days (generated into data/bench-scale once); BENCH_SCALE_SIZES=5000,10000 for
a quick try, BENCH_SCALE_ENGINES=default for one engine. Each size is trained and published by
`vitrina-trainer run` (default engine) and `run --engine spark --spark-master local[2]`, each a
child process whose tree is sampled with psutil: wall time, peak RSS of the driver (the run's own
process), of Spark's JVM and of each Python worker (= executor task process); the Spark run also
logs each partition's customers, events, seconds and worker peak.
2. Publishing alone, to one Redis and to a 3-master Redis Cluster: customers per second and
Redis bytes per customer's top-100.
3. From those numbers, the table for 10 M customers x 1 M products x 1 B events on N executors.

Writes data/bench-scale.json and data/bench-scale.md.
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as pads

from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_layout import encode_ranking
from vitrina_shared.redis_server import PrivateRedis, PrivateRedisCluster
from vitrina_shared.schema import Raw

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OUT = REPO / "data" / "bench-scale"
ITEMS, DAYS, SEED = 20_000, 4, 42
SIZES = tuple(
    int(n) for n in os.environ.get("BENCH_SCALE_SIZES", "100000,200000,400000").split(",")
)
ENGINES = tuple(os.environ.get("BENCH_SCALE_ENGINES", "spark,default").split(","))
FIT_CUSTOMERS = 50_000
# A run still going after this long, or whose processes hold more than this together, is stopped
# and reported unfinished with the reason (the machine is shared: it must not be run out of memory).
TIME_CAP_S = float(os.environ.get("BENCH_SCALE_TIME_CAP_S", 3600))
MEMORY_CAP_MB = float(os.environ.get("BENCH_SCALE_MEMORY_CAP_MB", 12_000))
PUBLISH_USERS = 200_000
TOP_K = 100
STAGE = re.compile(r"stage ([\w ]+): (?:done|FAILED) in ([\d.]+) s, rss (\d+) MB, peak (\d+) MB")
PARTITION = re.compile(
    r"partition (\d+): (\d+) users, (\d+) events in ([\d.]+) s, worker peak (\d+) MB"
)
BROADCAST = re.compile(r"broadcast model: ([\d.]+) MB")
PRODUCT_STATE = re.compile(r"product state over all events in ([\d.]+) s")
MB = 2**20

# The marketplace of the paper table.
TARGET_CUSTOMERS, TARGET_PRODUCTS, TARGET_EVENTS = 10_000_000, 1_000_000, 1_000_000_000
CORES_PER_EXECUTOR = 4
# Product-side bytes a worker holds per product beyond the bench's catalog: two factor models'
# vectors ((64 + 2) float32 each), 50 co-occurrence neighbours (float32 + int32 index), ~20
# float32/float64 statistics: from the model's configuration, not measured.
BYTES_PER_PRODUCT = 2 * 66 * 4 + 50 * 8 + 20 * 8


def dataset(users: int) -> Path:
    """The generated events, rewritten as Parquet partitioned by day (what Spark reads in parallel.

    A .csv.gz is one partition): both engines read that folder.
    """
    out = OUT / f"users-{users}"
    if not (out / "events.csv.gz").exists():
        subprocess.run(
            [
                str(BIN / "vitrina-trainer"),
                "generate",
                "--out",
                str(out),
                "--users",
                str(users),
                "--items",
                str(ITEMS),
                "--days",
                str(DAYS),
                "--seed",
                str(SEED),
            ],
            check=True,
        )
    if not (out / "events").exists():
        table = pacsv.read_csv(
            out / "events.csv.gz",
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(Raw.ALL, pa.string())),
        )
        pads.write_dataset(
            table,
            out / "events",
            format="parquet",
            partitioning=[Raw.EVENT_DATE],
            partitioning_flavor="hive",
            max_rows_per_file=1_000_000,
            max_rows_per_group=250_000,
        )
    return out


class TreeSampler:
    """Peak RSS of a process and each of its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peaks: dict[int, tuple[str, float]] = {}
        self.total_peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _kind(self, process: psutil.Process) -> str:
        """Asked at every sample: Spark's launcher script becomes the JVM under the same pid."""
        if process.pid == self.root.pid:
            return "driver"
        if process.name() == "java":
            return "jvm"
        return "worker" if any("pyspark" in part for part in process.cmdline()) else "other"

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0.0
            for process in processes:
                try:
                    rss = process.memory_info().rss / MB
                    kind = self._kind(process)
                except psutil.Error:
                    continue
                total += rss
                peak = self.peaks.get(process.pid, (kind, 0.0))[1]
                self.peaks[process.pid] = (kind, max(rss, peak))
            self.total_peak = max(self.total_peak, total)
            time.sleep(0.2)

    def stop(self) -> dict[str, list[float]]:
        self._stop.set()
        self._thread.join()
        by_kind: dict[str, list[float]] = {}
        for kind, peak in self.peaks.values():
            by_kind.setdefault(kind, []).append(round(peak))
        return by_kind


def timed_run(data: Path, redis_url: str, engine: str) -> dict:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(OUT / f"run-{engine}-{data.name}"),
        "TRAINER_THREADS": "2" if engine == "default" else "1",
        "TRAINER_SPARK_FIT_CUSTOMERS": str(FIT_CUSTOMERS),
        "PYSPARK_SUBMIT_ARGS": "--driver-memory 2g pyspark-shell",
    }
    command = [str(BIN / "vitrina-trainer"), "run", "--events", str(data / "events")]
    command += ["--items", str(data / "items.csv")]
    if engine == "spark":
        command += ["--engine", "spark", "--spark-master", "local[2]"]
    log_path = OUT / f"run-{engine}-{data.name}.log"
    print(f"$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        sampler = TreeSampler(child.pid)
        unfinished = _wait_within_caps(child, sampler, started)
    wall = time.perf_counter() - started
    peaks = sampler.stop()
    text = log_path.read_text()
    if unfinished:
        print(f"{engine} run stopped: {unfinished}; log: {log_path}", flush=True)
        last_stage = re.findall(r"stage ([\w ]+): started", text)
        return {
            "engine": engine,
            "unfinished": unfinished,
            "in_stage": last_stage[-1] if last_stage else None,
            "wall_s": round(wall, 1),
            "driver_peak_mb": max(peaks.get("driver", [0])),
            "stages": {name: float(seconds) for name, seconds, _, _ in STAGE.findall(text)},
        }
    if child.returncode != 0:
        print(text[-3000:])
        raise SystemExit(f"{engine} run failed ({child.returncode}); log: {log_path}")
    partitions = [
        {"users": int(u), "events": int(e), "seconds": float(s), "worker_peak_mb": int(m)}
        for _, u, e, s, m in PARTITION.findall(text)
    ]
    return {
        "engine": engine,
        "wall_s": round(wall, 1),
        "driver_peak_mb": max(peaks.get("driver", [0])),
        "jvm_peak_mb": max(peaks.get("jvm", [0])),
        "worker_peaks_mb": sorted(peaks.get("worker", []), reverse=True),
        "stages": {name: float(seconds) for name, seconds, _, _ in STAGE.findall(text)},
        "partitions": partitions,
        "broadcast_mb": float(m[0]) if (m := BROADCAST.findall(text)) else None,
        "product_state_s": float(m[0]) if (m := PRODUCT_STATE.findall(text)) else None,
    }


def _wait_within_caps(child: subprocess.Popen, sampler: TreeSampler, started: float) -> str:
    """Wait for the run; stop it (the child and its processes) past a cap: why, or "" if done."""
    while child.poll() is None:
        reason = ""
        if time.perf_counter() - started > TIME_CAP_S:
            reason = f"still running after the {TIME_CAP_S:.0f} s cap"
        elif sampler.total_peak > MEMORY_CAP_MB:
            held = sampler.total_peak
            reason = f"its processes held {held:.0f} MB, over the {MEMORY_CAP_MB:.0f} MB cap"
        if reason:
            for process in [*psutil.Process(child.pid).children(recursive=True)]:
                process.kill()
            child.kill()
            child.wait()
            return reason
        time.sleep(1)
    return ""


def bench_publish(url: str, cluster: bool) -> dict:
    """Writing pre-encoded top-100 lists through the model store's writer (one client)."""
    rng = np.random.default_rng(0)
    items = [str(i) for i in range(ITEMS)]
    scores = np.sort(rng.random(TOP_K))[::-1]
    blobs = [
        (f"customer-{n}", encode_ranking([items[i] for i in rng.integers(0, ITEMS, TOP_K)], scores))
        for n in range(PUBLISH_USERS)
    ]
    with ModelStore.from_url(url, timeout=120, cluster=cluster) as store:
        nodes = store.client.get_primaries() if cluster else [None]
        before = sum(_used(store, node) for node in nodes)
        writer = store.begin()
        started = time.perf_counter()
        written = writer.write_users(blobs)
        seconds = time.perf_counter() - started
        used = sum(_used(store, node) for node in nodes) - before
        per_node = [round(_used(store, node) / MB) for node in nodes]
        store.abort(writer)
    return {
        "redis": "cluster of 3" if cluster else "single",
        "customers_per_s": round(written / seconds),
        "bytes_per_customer": round(used / written),
        "used_mb_per_node": per_node,
    }


def _used(store: ModelStore, node: object) -> int:
    if node is None:
        return store.client.info("memory")["used_memory"]
    return node.redis_connection.info("memory")["used_memory"]


def factor_ranking_ms(products: int = TARGET_PRODUCTS, customers: int = 2_000) -> float:
    """One core's milliseconds to rank `products` for a customer by a factor model's vectors.

    RecTools' ranker, as the ALS and LightFM sources use it: the part of scoring that grows with
    the catalogue rather than with the customer's events, measured at marketplace size.
    """
    from rectools.models.rank import Distance, ImplicitRanker

    rng = np.random.default_rng(0)
    items = rng.random((products, 66), dtype=np.float32)
    users = rng.random((customers, 66), dtype=np.float32)
    ranker = ImplicitRanker(Distance.DOT, users, items, num_threads=1)
    started = time.perf_counter()
    ranker.rank(np.arange(customers), k=50)
    return (time.perf_counter() - started) / customers * 1000


def _worst(results: dict, seconds_of) -> float:
    """The highest seconds per event over the sizes run.

    Fixed costs and a busy shared machine make the small sizes dearer per event, so this errs on
    the slow side.
    """
    return max(seconds_of(runs["spark"]) / runs["events"] for runs in results.values())


def paper(results: dict, publishing: list[dict], executors: int, rank_ms: float) -> dict:
    """The nightly run at marketplace size on `executors` x 4 cores, from the Spark runs.

    Load and product state: seconds per event on local[2] (two cores busy); scoring and
    publishing: the partitions' own seconds per event (each on one core); both the worst over
    the sizes. The factor models' ranking over 1 M products instead of the bench's 20,000:
    `rank_ms` per customer and model, measured. The driver's fit: measured at FIT_CUSTOMERS
    customers, scaled by the marketplace's events per customer.
    """
    biggest = max(results)
    spark = results[biggest]["spark"]
    cores = executors * CORES_PER_EXECUTOR
    score_core_s = _worst(results, lambda run: sum(p["seconds"] for p in run["partitions"]))
    load_core_s = 2 * _worst(results, lambda run: run["stages"]["load"])
    state_core_s = 2 * _worst(results, lambda run: run["product_state_s"] or 0.0)
    fit_s = spark["stages"]["fit"] - (spark["product_state_s"] or 0.0)
    scale_fit = (TARGET_EVENTS / TARGET_CUSTOMERS) / (results[biggest]["events"] / biggest)
    fit_target_s = fit_s * scale_fit
    load_s = TARGET_EVENTS * load_core_s / cores
    state_s = TARGET_EVENTS * state_core_s / cores
    score_s = TARGET_EVENTS * score_core_s / cores
    ranking_s = TARGET_CUSTOMERS * 2 * rank_ms / 1000 / cores
    extra_products_mb = (TARGET_PRODUCTS - ITEMS) * BYTES_PER_PRODUCT / MB
    worker_peak = max(p["worker_peak_mb"] for p in spark["partitions"])
    cluster = next(p for p in publishing if p["redis"] != "single")
    return {
        "executors": executors,
        "cores": cores,
        "load_min": round(load_s / 60, 1),
        "fit_on_driver_min": round(fit_target_s / 60, 1),
        "product_state_min": round(state_s / 60, 1),
        "score_and_publish_min": round(score_s / 60, 1),
        "factor_ranking_1m_products_min": round(ranking_s / 60, 1),
        "total_min": round((load_s + fit_target_s + state_s + score_s + ranking_s) / 60, 1),
        "memory_per_executor_gb": round(
            CORES_PER_EXECUTOR * (worker_peak + extra_products_mb) / 1024 + 2, 1
        ),
        "redis_gb_per_shard_of_3": round(
            TARGET_CUSTOMERS * cluster["bytes_per_customer"] / 3 / 2**30, 1
        ),
        "inputs": {
            "score_core_s_per_event": score_core_s,
            "load_core_s_per_event": load_core_s,
            "product_state_core_s_per_event": state_core_s,
            "factor_ranking_ms_per_customer_and_model": rank_ms,
            "fit_s_measured": fit_s,
            "fit_scale": scale_fit,
            "worker_peak_mb_measured": worker_peak,
            "extra_products_mb": extra_products_mb,
        },
    }


def main() -> None:
    """Publishing first, then Spark at every size, then the default engine.

    On a shared machine the figures the bar needs come first. Results are saved after every run.
    """
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"sizes {SIZES}; load average {os.getloadavg()[0]:.1f}", flush=True)
    publishing = []
    with PrivateRedis() as single:
        publishing.append(bench_publish(single.url, cluster=False))
    with PrivateRedisCluster(masters=3) as cluster:
        publishing.append(bench_publish(cluster.url, cluster=True))
    rank_ms = factor_ranking_ms()
    print(json.dumps(publishing), f"ranking 1 M products: {rank_ms:.1f} ms", flush=True)
    results: dict[int, dict] = {users: {} for users in SIZES}
    with PrivateRedis() as redis_server:
        for engine in ENGINES:
            for users in SIZES:
                run = timed_run(dataset(users), redis_server.url, engine)
                results[users][engine] = run
                with ModelStore.from_url(redis_server.url) as store:
                    if versions := store.versions():
                        results[users]["events"] = versions[0].meta["data"]["events"]
                    store.client.flushall()
                print(json.dumps({users: run})[:1500], flush=True)
                save(results, publishing, rank_ms)
                if "unfinished" in run:  # a bigger size would not finish either
                    break
    print(save(results, publishing, rank_ms))


def save(results: dict, publishing: list[dict], rank_ms: float) -> str:
    done = {
        users: runs
        for users, runs in results.items()
        if "spark" in runs and "unfinished" not in runs["spark"]
    }
    table = [paper(done, publishing, n, rank_ms) for n in (10, 25, 50)] if done else []
    report = {"sizes": results, "publishing": publishing, "paper": table}
    (REPO / "data" / "bench-scale.json").write_text(json.dumps(report, indent=2))
    text = markdown(report)
    (REPO / "data" / "bench-scale.md").write_text(text)
    return text


def markdown(report: dict) -> str:
    lines = [
        "| customers | events | engine | wall s | driver peak MB | JVM peak MB | "
        "worker peaks MB | partitions |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for users, runs in report["sizes"].items():
        for engine in ("default", "spark"):
            if engine not in runs:
                continue
            run = runs[engine]
            if "unfinished" in run:
                lines.append(
                    f"| {int(users):,} | {runs.get('events', 0):,} | {engine} | "
                    f"stopped at {run['wall_s']} s in stage {run['in_stage']}: "
                    f"{run['unfinished']} | {run['driver_peak_mb']} | | | |"
                )
                continue
            workers = ", ".join(map(str, run["worker_peaks_mb"][:4])) or "–"
            lines.append(
                f"| {int(users):,} | {runs['events']:,} | {engine} | {run['wall_s']} | "
                f"{run['driver_peak_mb']} | {run['jvm_peak_mb'] or '–'} | {workers} | "
                f"{len(run['partitions']) or '–'} |"
            )
    lines += [
        "",
        "| Redis | customers/s (one writer) | bytes per customer (top-100) |",
        "|---|---|---|",
    ]
    for p in report["publishing"]:
        lines.append(f"| {p['redis']} | {p['customers_per_s']:,} | {p['bytes_per_customer']:,} |")
    lines += [
        "",
        "| executors (x4 cores) | load min | fit min | product state min | score+publish min | "
        "factor ranking (1 M products) min | total min | GB per executor | "
        "Redis GB per shard (3) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["paper"]:
        lines.append(
            f"| {row['executors']} | {row['load_min']} | {row['fit_on_driver_min']} | "
            f"{row['product_state_min']} | {row['score_and_publish_min']} | "
            f"{row['factor_ranking_1m_products_min']} | {row['total_min']} | "
            f"{row['memory_per_executor_gb']} | {row['redis_gb_per_shard_of_3']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
