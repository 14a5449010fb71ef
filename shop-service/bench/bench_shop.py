"""`make bench-shop`: the home page of a signed-in customer, with recommendations, under load.

Sets up the real thing on loopback: a private Redis with a model published through `ModelStore`
(each customer's own history first, then the popular list — the shape the trainer publishes),
`vitrina-reco`, and `vitrina-shop` (gunicorn) on a SQLite database filled by `vitrina-shop init`.
Data: ../shared/datasets/online-retail-2009 when present, else the trainer's synthetic generator.
Signs in `--customers` of the most active customers through the demo switch and loads `GET /`
with their session cookies from wrk (a C load generator in its own process; Debian package
`wrk`). Prints p50 / p95 / p99 latency, requests/s and the exact commands. Bounded by `--seconds`.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis

from vitrina_shared.events import read_events
from vitrina_shared.model_store import ModelStore
from vitrina_shared.processes import ServiceStartError, stop_process_group, wait_for_http
from vitrina_shared.redis_layout import POPULAR, encode_ranking
from vitrina_shared.redis_server import PrivateRedis, free_port
from vitrina_shared.schema import Columns

REPO = Path(__file__).resolve().parents[2]
REAL = REPO.parent / "shared" / "datasets" / "online-retail-2009"
BIN = Path(sys.executable).parent
TOP_K = 50
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 8, 32])
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--customers", type=int, default=50)
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
        reco_port, shop_port = free_port(), free_port()
        env = {
            **os.environ,
            "VITRINA_ENV": "development",
            "DATA_DIR": str(workdir),
            "REDIS_URL": redis_server.url,
            "RECO_API_TOKEN": "bench-token",
            "RECO_URL": f"http://127.0.0.1:{reco_port}",
            "DATABASE_URL": f"sqlite:///{workdir / 'shop.sqlite3'}",
            "SHOP_SECRET_KEY": "bench-secret",
            "SHOP_CURRENCY": currency,
        }
        init = [str(BIN / "vitrina-shop"), "init", "--events", str(events), "--items", str(items)]
        started = time.perf_counter()
        subprocess.run(init, env=env, check=True)
        print(f"vitrina-shop init: {time.perf_counter() - started:.1f}s")
        processes: list[subprocess.Popen] = []
        try:
            for name, command in (
                ("reco", ["vitrina-reco", "--port", str(reco_port)]),
                (
                    "shop",
                    [
                        "vitrina-shop",
                        "--port",
                        str(shop_port),
                        "--workers",
                        str(args.workers),
                        "--threads",
                        str(args.threads),
                    ],
                ),
            ):
                log = workdir / f"{name}.log"
                with log.open("wb") as out:
                    process = subprocess.Popen(
                        [str(BIN / command[0]), *command[1:]],
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                processes.append(process)
                port = reco_port if name == "reco" else shop_port
                wait_up(f"http://127.0.0.1:{port}/health", process, log)
            shop = f"http://127.0.0.1:{shop_port}"
            cookies = [sign_in(shop, user) for user in active[: args.customers]]
            script = workdir / "home.lua"
            script.write_text(WRK_SCRIPT % ", ".join(f'"{c}"' for c in cookies))
            print(
                f"shop: {args.workers} gunicorn workers × {args.threads} threads; "
                f"{len(cookies)} signed-in customers in rotation; {os.cpu_count()} CPUs"
            )
            subprocess.run(
                [wrk, "-t1", "-c4", "-d3s", "-s", str(script), f"{shop}/"],
                check=True,
                capture_output=True,
            )
            print(
                f"{'connections':>11} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} errors"
            )
            commands = []
            for connections in args.connections:
                threads = min(connections, 2)
                command = [
                    wrk,
                    f"-t{threads}",
                    f"-c{connections}",
                    f"-d{args.seconds}s",
                    "-s",
                    str(script),
                    f"{shop}/",
                ]
                commands.append(" ".join(command))
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                result = dict(re.findall(r"(\w+)=([\d.]+)", out.split("RESULT", 1)[1]))
                rate = float(result["requests"]) / float(result["seconds"])
                latencies = " ".join(f"{float(result[p]):>8.1f}" for p in ("p50", "p95", "p99"))
                print(f"{connections:>11} {latencies} {rate:>8.0f} {result['errors']}")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"aim: p95 < 100 ms; load average after the runs: {load} (shared machine)")
            print("commands (the Lua script rotates the customers' session cookies):")
            for command in commands:
                print(f"  {command}")
            reco_warnings = (workdir / "shop.log").read_text().count("reco-service")
            print(f"reco-service fallbacks logged by the shop during the run: {reco_warnings}")
        finally:
            for process in processes:
                stop_process_group(process)


if __name__ == "__main__":
    main()
