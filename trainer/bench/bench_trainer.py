"""`make bench-trainer`: a full `vitrina-trainer run` at marketplace-pilot scale, and its quality.

1. Synthetic data of 100,000 customers, 20,000 products, ~5 million events (generated into
   data/bench once), trained and published against a private Redis; each stage's time and memory,
   the wall time and the peak RSS of the run.
2. The same at 25,000 customers, to check that time grows linearly with customers.
3. Publishing alone: 1,000,000 customers' top-k into Redis.
4. On ../shared/datasets/online-retail-2009, when present: the offline evaluation (NDCG@10, …).

Aim: the full run under 10 minutes and 6 GB on a 2-core machine.
"""

import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from vitrina_shared.model_meta import ModelMeta
from vitrina_shared.model_store import ModelStore
from vitrina_shared.redis_server import PrivateRedis

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BENCH = REPO / "data" / "bench"
REAL = REPO.parent / "shared" / "datasets" / "online-retail-2009"
ITEMS, DAYS, SEED = 20_000, 11, 42
SIZES = (100_000, 25_000)
PUBLISH_USERS = 1_000_000
STAGE_LINE = re.compile(r"stage (\w+): (done|FAILED) in ([\d.]+) s, rss (\d+) MB, peak (\d+) MB")


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{cpu}; {psutil.cpu_count()} logical cores (affinity {len(os.sched_getaffinity(0))}); "
        f"{memory:.1f} GiB RAM; load average {os.getloadavg()[0]:.1f}; "
        f"Python {platform.python_version()}; {platform.platform()}"
    )


def shell(command: list[str], env: dict[str, str] | None = None) -> str:
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    return f"{prefix} {shlex.join(command)}".strip()


def dataset(users: int) -> Path:
    out = BENCH / f"users-{users}"
    if not (out / "events.csv.gz").exists():
        command = [
            str(BIN / "vitrina-trainer"), "generate", "--out", str(out), "--users", str(users),
            "--items", str(ITEMS), "--days", str(DAYS), "--seed", str(SEED),
        ]  # fmt: skip
        print(f"$ {shell(command)}", flush=True)
        subprocess.run(command, check=True)
    return out


def timed_run(data: Path, redis_url: str) -> dict:
    """One `vitrina-trainer run` as a child process: wall time, its own peak RSS, stage lines."""
    env = {"REDIS_URL": redis_url, "DATA_DIR": str(BENCH / f"run-{data.name}")}
    command = [
        str(BIN / "vitrina-trainer"), "run",
        "--events", str(data / "events.csv.gz"), "--items", str(data / "items.csv"),
    ]  # fmt: skip
    print(f"$ {shell(command, env)}", flush=True)
    log_path = BENCH / f"run-{data.name}.log"
    started = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(command, env={**os.environ, **env}, stderr=log, stdout=log)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    text = log_path.read_text()
    if child.returncode != 0:
        print(text[-3000:])
        raise SystemExit(f"the run failed with exit code {child.returncode}; log: {log_path}")
    stages = [
        (name, float(seconds), int(rss), int(peak))
        for name, _, seconds, rss, peak in STAGE_LINE.findall(text)
    ]
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "stages": stages,
        "log": log_path,
        "load": os.getloadavg()[0],
    }


def print_run(users: int, result: dict, events: int) -> None:
    print(f"\n{users:,} customers, {events:,} events: wall {result['wall']:.1f} s, "
          f"CPU {result['cpu']:.1f} s, peak RSS {result['peak_mb'] / 1024:.2f} GiB, "
          f"load average at the end {result['load']:.1f}   (log: {result['log']})")  # fmt: skip
    print(f"  {'stage':<10} {'seconds':>9} {'rss MB':>8} {'peak MB':>8}")
    for name, seconds, rss, peak in result["stages"]:
        print(f"  {name:<10} {seconds:>9.1f} {rss:>8} {peak:>8}")


def bench_publish(redis_url: str, users: int = PUBLISH_USERS, k: int = 100) -> None:
    from vitrina_trainer.publish import publish

    rng = np.random.default_rng(0)
    recos = pd.DataFrame(
        {
            "user_id": pd.Categorical.from_codes(
                np.repeat(np.arange(users), k), categories=np.arange(users).astype(str)
            ),
            "item_id": pd.Categorical.from_codes(
                rng.integers(0, ITEMS, users * k), categories=np.arange(ITEMS).astype(str)
            ),
            "score": np.sort(rng.random((users, k)), axis=1)[:, ::-1].ravel(),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), users),
        }
    )
    bought = recos.iloc[:: k // 5][["user_id", "item_id"]]
    similar = pd.DataFrame(columns=["target_item_id", "item_id", "score", "rank"])
    popular = pd.DataFrame({"item_id": ["1"], "score": [1.0], "rank": [1]})
    store = ModelStore.from_url(redis_url, timeout=120)
    done = publish(store, recos, similar, popular, ModelMeta(top_k=k), bought=bought)
    memory = store.client.info("memory")["used_memory"] / 2**30
    print(f"\npublish alone: {done.users:,} customers x top-{k} (+5 bought each) in "
          f"{done.seconds:.1f} s = {done.users / done.seconds:,.0f} customers/s; "
          f"Redis holds {memory:.2f} GiB")  # fmt: skip
    store.client.flushall()
    store.close()


def bench_quality() -> None:
    if not (REAL / "events.csv.gz").exists():
        print(f"\nquality: {REAL} not found, skipped")
        return
    from vitrina_shared.catalog import read_items
    from vitrina_shared.events import read_events
    from vitrina_trainer.evaluation import VARIANTS, evaluate, metrics_table

    print(f"\nquality on {REAL.name} (protocol of DESIGN.md; reference: history 0.292, ALS 0.265, "
          "popular 0.102)", flush=True)  # fmt: skip
    started = time.perf_counter()
    items = read_items(REAL / "items.csv") if (REAL / "items.csv").exists() else None
    result = evaluate(read_events(REAL / "events.csv.gz").events, items)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for bought in VARIANTS:
            print(f"\nalready-bought products {bought}:")
            print(metrics_table(result, bought).round(4).to_string())
    print(f"\nevaluation took {time.perf_counter() - started:.0f} s")


def main() -> None:
    print(f"machine: {machine()}")
    print(f"command: {shell([sys.executable, *sys.argv])}\n", flush=True)
    results = {}
    with PrivateRedis() as redis_server:
        for users in SIZES:
            data = dataset(users)
            results[users] = timed_run(data, redis_server.url)
            store = ModelStore.from_url(redis_server.url)
            events = store.versions()[0].meta["data"]["events"]
            store.close()
            results[users]["events"] = events
            print_run(users, results[users], events)
        big, small = SIZES
        ratio = results[big]["wall"] / results[small]["wall"]
        print(f"\nlinearity: {big:,} / {small:,} customers = {big / small:.1f}x the customers, "
              f"{results[big]['events'] / results[small]['events']:.1f}x the events, "
              f"{ratio:.2f}x the wall time, "
              f"{results[big]['cpu'] / results[small]['cpu']:.2f}x the CPU time")  # fmt: skip
        verdict = (
            "PASS" if results[big]["wall"] < 600 and results[big]["peak_mb"] < 6 * 1024 else "MISS"
        )
        print(f"aim (< 600 s and < 6 GiB at {big:,} customers): {verdict}", flush=True)
        redis_server_flush = ModelStore.from_url(redis_server.url)
        redis_server_flush.client.flushall()
        redis_server_flush.close()
        bench_publish(redis_server.url)
    bench_quality()


if __name__ == "__main__":
    main()
