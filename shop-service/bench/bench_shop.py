"""`make bench-shop`: the home page of a signed-in customer, with recommendations, under load.

Sets up the real thing on loopback: a private Redis with a model published through `ModelStore`
(each customer's own history first, then the popular list — the shape the trainer publishes),
`vitrina-reco`, and two `vitrina-shop` servers (gunicorn) on one database (a new SQLite file, or
`--database-url`) filled by `vitrina-shop init`: one with the exposure log on (the default), one
with `SHOP_EXPOSURE_LOG=false`.
Data: ../shared/datasets/online-retail-2009 when present, else the trainer's synthetic generator.
Signs in `--customers` of the most active customers through the demo switch and loads `GET /`
with their session cookies from wrk (a C load generator in its own process; Debian package
`wrk`), in rounds that alternate between the two servers (which goes first alternates too), so
drift in the machine's load hits both alike. Prints, per concurrency and server, the median over
the rounds of p50 / p95 / p99 latency, requests/s and the shop's CPU time per page (its
processes' user + system time, which the load of other programs barely moves), the change the
log makes (of the medians, and the mean of the rounds' paired changes with its 95 % confidence
interval), and the exact commands. Bounded by `--rounds` × `--seconds`.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import psutil
import redis
from scipy import stats
from sqlalchemy import create_engine, func, make_url, select

from vitrina_shared.events import read_events
from vitrina_shared.model_store import ModelStore
from vitrina_shared.processes import ServiceStartError, stop_process_group, wait_for_http
from vitrina_shared.redis_layout import POPULAR, encode_ranking
from vitrina_shared.redis_server import PrivateRedis, free_port
from vitrina_shared.schema import Columns
from vitrina_shop import create_app, exposure
from vitrina_shop.db import engine_of, session_scope
from vitrina_shop.models import Impression, Product
from vitrina_shop.recommendations import Block

REPO = Path(__file__).resolve().parents[2]
REAL = REPO.parent / "shared" / "datasets" / "online-retail-2009"
BIN = Path(sys.executable).parent
TOP_K = 50
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
BLOCK = 12  # products per block on the home page
MODES = {"on": "true", "off": "false"}  # SHOP_EXPOSURE_LOG of each server

# Runs inside wrk: each request carries the next customer's cookie; `done` prints percentiles.
WRK_SCRIPT = """
local cookies = {%s}
local n = 0
request = function()
  n = n %% #cookies + 1
  return wrk.format("GET", "/", {["Cookie"] = cookies[n]})
end
done = function(summary, latency, requests)
  io.write(string.format(
    "RESULT p50=%%.2f p95=%%.2f p99=%%.2f max=%%.2f requests=%%d errors=%%d seconds=%%.2f\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout, summary.duration / 1e6))
end
"""


def data_files(workdir: Path) -> tuple[Path, Path, str]:
    if (REAL / "events.csv.gz").exists():
        return REAL / "events.csv.gz", REAL / "items.csv", "GBP"
    out = workdir / "synthetic"
    subprocess.run(
        [str(BIN / "vitrina-trainer"), "generate", "--out", str(out), "--users", "5000"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out / "events.csv.gz", out / "items.csv", "RUB"


def publish(url: str, events_path: Path) -> tuple[int, list[str]]:
    """Every customer's recent products, topped up with the popular ones.

    Returns the count and the customers by activity.
    """
    events = read_events(events_path).events
    popular = events[Columns.ITEM].value_counts().index.astype(str)[:TOP_K].tolist()
    recent = events.iloc[::-1].drop_duplicates([Columns.USER, Columns.ITEM])
    recent = recent.groupby(Columns.USER, observed=True)[Columns.ITEM].agg(
        lambda items: [str(i) for i in items[:TOP_K]]
    )

    def rankings():
        for user, own in recent.items():
            items = list(dict.fromkeys(own + popular))[:TOP_K]
            yield str(user), encode_ranking(items, [1.0 - n / 100 for n in range(len(items))])

    client = redis.Redis.from_url(url)
    store = ModelStore(client)
    writer = store.begin()
    users = writer.write_users(rankings())
    writer.write_fallbacks([(POPULAR, encode_ranking(popular, [1.0] * len(popular)))])
    writer.write_meta({"top_k": TOP_K, "trained_at": datetime.now(UTC).isoformat()})
    store.activate(writer.version)
    client.close()
    active = events[Columns.USER].value_counts().index.astype(str).tolist()
    return users, active


def wait_up(url: str, process: subprocess.Popen, log: Path) -> None:
    try:
        wait_for_http(url, process)
    except ServiceStartError as exc:
        raise SystemExit(f"{exc}; log:\n{log.read_text()[-3000:]}") from exc


def sign_in(shop: str, user_id: str) -> str:
    """The demo switch, as a browser would use it; returns the `Cookie` header value."""
    with httpx.Client(base_url=shop, timeout=10) as client:
        token = CSRF.search(client.get("/demo/").text).group(1)
        response = client.post("/demo/", data={"user_id": user_id, "csrf_token": token})
        if response.status_code != 302:
            raise SystemExit(f"could not browse as {user_id}: HTTP {response.status_code}")
        page = client.get("/").text
        if 'data-testid="recommended" data-source="personal"' not in page:
            raise SystemExit(f"{user_id}'s home page shows no personal recommendations")
        return f"session={client.cookies['session']}"


def start(name: str, command: list[str], env: dict[str, str], workdir: Path) -> subprocess.Popen:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(BIN / command[0]), *command[1:]],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def cpu_seconds(server: subprocess.Popen) -> float:
    """User + system time of the server's processes (gunicorn's master and workers) so far."""
    processes = [psutil.Process(server.pid)]
    processes += processes[0].children(recursive=True)
    return sum(p.cpu_times().user + p.cpu_times().system for p in processes)


def run_wrk(command: list[str], server: subprocess.Popen) -> dict[str, float]:
    """One wrk run: its percentiles and rate, and the server's CPU milliseconds per request."""
    cpu_before = cpu_seconds(server)
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(server) - cpu_before
    result = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", out.split("RESULT", 1)[1])}
    result["rate"] = result["requests"] / result["seconds"]
    result["cpu_ms"] = 1000 * cpu / max(result["requests"], 1)
    return result


def change(on: float, off: float) -> str:
    return f"{100 * (on - off) / off:+.1f} %" if off else "n/a"


def paired_change(on: list[float], off: list[float]) -> str:
    """The mean change of the rounds, each on/off pair measured back to back, with its 95 % CI.

    On a shared 2-core machine one round's p95 moves by ±20 % on its own: only the interval says
    whether a difference is the log's or the machine's.
    """
    ratios = np.log(np.array(on) / np.array(off))
    if len(ratios) < 2:
        return "n/a (one round)"
    low, high = stats.t.interval(0.95, len(ratios) - 1, loc=ratios.mean(), scale=stats.sem(ratios))
    percent = [100 * (np.exp(x) - 1) for x in (ratios.mean(), low, high)]
    return f"{percent[0]:+.1f} % (95 % CI {percent[1]:+.1f} to {percent[2]:+.1f} %)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Short runs, many of them: gunicorn hands a run's keep-alive connections to its workers
    # unevenly (8 went 7/1/0 or 4/3/1), differently each run, and that moves a run's p95 by ±20 %;
    # more pairs average it out where longer runs do not.
    parser.add_argument("--seconds", type=int, default=2, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=10, help="runs per server and concurrency")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 8, 32])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument(
        "--database-url",
        help="a database for the two servers to share, which `vitrina-shop init` fills (e.g. "
        "PostgreSQL, as compose runs it); default: a new SQLite file, as `make demo` runs it",
    )
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk not found: `apt-get install -y wrk` (Debian) and run again")

    with (
        tempfile.TemporaryDirectory(prefix="vitrina-bench-shop-") as tmp,
        PrivateRedis() as redis_server,
    ):
        workdir = Path(tmp)
        events, items, currency = data_files(workdir)
        started = time.perf_counter()
        users, active = publish(redis_server.url, events)
        print(
            f"data: {events}; model for {users:,} customers published in "
            f"{time.perf_counter() - started:.1f}s"
        )
        reco_port = free_port()
        database = args.database_url or f"sqlite:///{workdir / 'shop.sqlite3'}"
        env = {
            **os.environ,
            "VITRINA_ENV": "development",
            "DATA_DIR": str(workdir),
            "REDIS_URL": redis_server.url,
            "RECO_API_TOKEN": "bench-token",
            "RECO_URL": f"http://127.0.0.1:{reco_port}",
            "DATABASE_URL": database,
            "SHOP_SECRET_KEY": "bench-secret",
            "SHOP_CURRENCY": currency,
        }
        init = [str(BIN / "vitrina-shop"), "init", "--events", str(events), "--items", str(items)]
        started = time.perf_counter()
        subprocess.run(init, env=env, check=True)
        print(f"vitrina-shop init: {time.perf_counter() - started:.1f}s")
        processes: list[subprocess.Popen] = []
        try:
            reco = start("reco", ["vitrina-reco", "--port", str(reco_port)], env, workdir)
            processes.append(reco)
            wait_up(f"http://127.0.0.1:{reco_port}/health", reco, workdir / "reco.log")
            shops: dict[str, tuple[str, subprocess.Popen]] = {}
            for mode, setting in MODES.items():
                port = free_port()
                command = ["vitrina-shop", "--port", str(port), "--workers", str(args.workers)]
                command += ["--threads", str(args.threads)]
                shop_env = {**env, "SHOP_EXPOSURE_LOG": setting}
                server = start(f"shop-{mode}", command, shop_env, workdir)
                processes.append(server)
                wait_up(f"http://127.0.0.1:{port}/health", server, workdir / f"shop-{mode}.log")
                shops[mode] = (f"http://127.0.0.1:{port}", server)
            # One sign-in per customer: both servers share the database and the secret key.
            cookies = [sign_in(shops["on"][0], user) for user in active[: args.customers]]
            script = workdir / "home.lua"
            script.write_text(WRK_SCRIPT % ", ".join(f'"{c}"' for c in cookies))
            print(
                f"shop: two servers (exposure log on / off), each {args.workers} gunicorn workers "
                f"× {args.threads} threads; {len(cookies)} signed-in customers in rotation; "
                f"{os.cpu_count()} CPUs; load average before: {load_average()}"
            )
            for url, server in shops.values():  # warm up both
                run_wrk([wrk, "-t1", "-c4", "-d3s", "-s", str(script), f"{url}/"], server)
            impressions_before = count_impressions(database)
            commands, results = [], {}
            for connections in args.connections:
                for round_number in range(args.rounds):
                    order = list(MODES) if round_number % 2 == 0 else list(MODES)[::-1]
                    for mode in order:
                        url, server = shops[mode]
                        command = [wrk, f"-t{min(connections, 2)}", f"-c{connections}"]
                        command += [f"-d{args.seconds}s", "-s", str(script), f"{url}/"]
                        if round_number == 0:
                            commands.append(f"[log {mode}] {' '.join(command)}")
                        results.setdefault((connections, mode), []).append(run_wrk(command, server))
            time.sleep(2)  # the log's last batch is written within a second
            print_table(args.connections, results)
            print(
                f"medians of {args.rounds} rounds of {args.seconds} s per server and concurrency, "
                f"the servers alternating; load average after: {load_average()} (shared machine)"
            )
            written = count_impressions(database) - impressions_before
            print(
                f"impressions written during the runs: {written:,} "
                "(the log-on server's; the log-off server writes none)"
            )
            for mode in MODES:
                text = (workdir / f"shop-{mode}.log").read_text()
                print(
                    f"log {mode}: exposure-log failures logged {text.count('exposure log:')}, "
                    f"reco-service fallbacks logged {text.count('reco-service /')}"
                )
            request_ms, writer_ms = log_cpu_per_page(database)
            print(
                f"the log's own CPU per home page, measured in-process: {request_ms:.2f} ms on the "
                f"request thread, {writer_ms:.2f} ms in the writer thread "
                f"({make_url(database).get_backend_name()})"
            )
            print("aim: the log moves the home page's p95 by < 10 %")
            print("commands (the Lua script rotates the customers' session cookies):")
            for command in commands:
                print(f"  {command}")
        finally:
            for process in processes:
                stop_process_group(process)


def log_cpu_per_page(database: str, pages: int = 2000) -> tuple[float, float]:
    """Thread CPU milliseconds the log adds to one home page, measured in this process.

    The request's part (`exposure.shown` for its two blocks of 12: ids, signed references, the
    buffer's append) and the writer's (inserting those two rows in batches, as it does).
    """
    app = create_app({"DATABASE_URL": database, "SECRET_KEY": "bench-secret"})
    with session_scope(app) as db:
        block = Block(list(db.scalars(select(Product).limit(BLOCK))), "personal", "v-bench")
    rows: list[dict] = []
    app.extensions[exposure.EXTENSION].add = lambda _table, row: rows.append(row)
    with app.test_request_context("/"):
        exposure.shown(block, "recommended")  # the variant lookup, cached per request
        started = time.thread_time()
        for _ in range(pages):
            exposure.shown(block, "recommended")
            exposure.shown(block, "popular")
        request_ms = 1000 * (time.thread_time() - started) / pages
    log_engine = app.extensions[exposure.EXTENSION].engine  # the writer's own connection
    started = time.thread_time()
    for first in range(0, len(rows), exposure.BATCH_ROWS):
        with log_engine.begin() as connection:
            batch = rows[first : first + exposure.BATCH_ROWS]
            exposure.insert_rows(connection, Impression.__table__, batch)
    writer_ms = 1000 * (time.thread_time() - started) / pages
    log_engine.dispose()
    engine_of(app).dispose()
    return request_ms, writer_ms


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def count_impressions(database: str) -> int:
    engine = create_engine(database)
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(Impression))
    engine.dispose()
    return count


def print_table(levels: list[int], results: dict[tuple[int, str], list[dict[str, float]]]) -> None:
    print(
        f"{'connections':>11} {'log':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} "
        f"{'CPU ms/page':>11} errors   p95 of each round"
    )
    for connections in levels:
        medians = {}
        for mode in MODES:
            runs = results[(connections, mode)]
            medians[mode] = {
                key: statistics.median(run[key] for run in runs)
                for key in ("p50", "p95", "p99", "rate", "cpu_ms")
            }
            m = medians[mode]
            errors = sum(int(run["errors"]) for run in runs)
            rounds = " ".join(f"{run['p95']:.1f}" for run in runs)
            print(
                f"{connections:>11} {mode:>4} {m['p50']:>8.1f} {m['p95']:>8.1f} {m['p99']:>8.1f} "
                f"{m['rate']:>8.0f} {m['cpu_ms']:>11.2f} {errors:>6}   {rounds}"
            )
        on, off = medians["on"], medians["off"]
        cpu = change(on["cpu_ms"], off["cpu_ms"])
        print(
            f"{'':>11} the log's change, medians: p50 {change(on['p50'], off['p50'])}, "
            f"p95 {change(on['p95'], off['p95'])}, CPU per page {cpu}"
        )
        pairs = {
            key: [[run[key] for run in results[(connections, mode)]] for mode in MODES]
            for key in ("p95", "cpu_ms")
        }
        print(
            f"{'':>11} paired by round: p95 {paired_change(*pairs['p95'])}, "
            f"CPU per page {paired_change(*pairs['cpu_ms'])}"
        )


if __name__ == "__main__":
    main()
