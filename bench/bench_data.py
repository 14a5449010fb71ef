"""`make bench-data`: generate 10 million synthetic events, write them, read them back.

Each phase runs in a fresh process so its peak memory (RSS) is its own. The files go to a
temporary folder that is removed afterwards.
"""

import argparse
import math
import os
import platform
import resource
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import psutil

from vitrina_shared.events import read_events
from vitrina_trainer.generator.synthetic import (
    EVENTS_FILE,
    ITEMS_COLUMNS,
    ITEMS_FILE,
    GeneratorConfig,
    generate,
    write_events,
)

ITEMS_PER_USER = 0.3  # a catalog that grows with the audience, as on a marketplace


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _cpu_s() -> float:
    """CPU time of this process: fairer than wall time on a machine shared with others."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _generate_and_write(config: GeneratorConfig, out: Path) -> dict[str, float]:
    began, cpu = time.perf_counter(), _cpu_s()
    data = generate(config)
    generated, generated_cpu = time.perf_counter(), _cpu_s()
    out.mkdir(parents=True, exist_ok=True)
    data.catalog.frame()[list(ITEMS_COLUMNS)].to_csv(out / ITEMS_FILE, index=False)
    rows = write_events(data, out / EVENTS_FILE)
    written = time.perf_counter()
    return {
        "events": len(data.events),
        "rows": rows,
        "generate_s": generated - began,
        "write_s": written - generated,
        "generate_cpu_s": generated_cpu - cpu,
        "write_cpu_s": _cpu_s() - generated_cpu,
        "peak_mb": _peak_rss_mb(),
    }


def _read(path: Path) -> dict[str, float]:
    began, cpu = time.perf_counter(), _cpu_s()
    log = read_events(path)
    return {
        "events": len(log.events),
        "rows": log.rows_read,
        "skipped": log.rows_skipped,
        "read_s": time.perf_counter() - began,
        "read_cpu_s": _cpu_s() - cpu,
        "frame_mb": log.events.memory_usage(deep=True).sum() / 2**20,
        "peak_mb": _peak_rss_mb(),
    }


def _in_fresh_process(function, *args):
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _config_for(events: int, seed: int) -> GeneratorConfig:
    """Enough customers for `events`, from the events per customer of a small pilot run."""
    pilot = GeneratorConfig(users=5_000, items=1_500, seed=seed)
    per_user = len(generate(pilot).events) / pilot.users
    users = math.ceil(events / per_user * 1.02)  # a little over: the pilot is an estimate
    return GeneratorConfig(users=users, items=max(int(users * ITEMS_PER_USER), 1), seed=seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000, help="events to generate")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} (shared with others)"
    )
    config = _config_for(args.events, args.seed)
    print(
        f"config: {config.users:,} customers, {config.items:,} products, {config.days} days "
        f"from {config.start}, seed {config.seed}"
    )
    folder = Path(tempfile.mkdtemp(prefix="vitrina-bench-data-"))
    try:
        made = _in_fresh_process(_generate_and_write, config, folder)
        size = (folder / EVENTS_FILE).stat().st_size
        read = _in_fresh_process(_read, folder / EVENTS_FILE)
    finally:
        shutil.rmtree(folder)

    total = made["generate_s"] + made["write_s"]
    print(
        f"generate (in memory): {made['events']:,} events in {made['generate_s']:.1f} s "
        f"(CPU {made['generate_cpu_s']:.1f} s) = "
        f"{made['events'] / made['generate_s']:,.0f} events/s"
    )
    print(
        f"write events.csv.gz:  {made['rows']:,} rows in {made['write_s']:.1f} s "
        f"(CPU {made['write_cpu_s']:.1f} s) = {made['rows'] / made['write_s']:,.0f} events/s, "
        f"{size / 2**20:,.0f} MiB"
    )
    print(
        f"generate + write:     {total:.1f} s = {made['events'] / total:,.0f} events/s, "
        f"peak RSS {made['peak_mb']:,.0f} MiB"
    )
    print(
        f"read_events:          {read['events']:,} events ({read['rows']:,} rows, "
        f"{read['skipped']:,} skipped) in {read['read_s']:.1f} s (CPU {read['read_cpu_s']:.1f} s) "
        f"= {read['rows'] / read['read_s']:,.0f} events/s, peak RSS {read['peak_mb']:,.0f} MiB, "
        f"frame {read['frame_mb']:,.0f} MiB"
    )
    print(f"removed {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
