"""`make bench-reco`: reco-service's latency and throughput under wrk, against a trivial endpoint.

Publishes synthetic recommendations for 100,000 users through the trainer's publishing code into a
private Redis, starts `vitrina-reco` (one worker) and loads it from wrk, a C load generator in its
own process (Debian package `wrk`). Prints p50 / p99 latency and requests/s at concurrency 1 and 32
for `GET /recommendations/{user}` and for `GET /health` on the same server (the web stack's
ceiling), and the ratio between their throughputs. Everything listens on 127.0.0.1 only and every
run is bounded by `--seconds`.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import redis

from vitrina_shared.model_store import ModelStore
from vitrina_shared.processes import ServiceStartError, stop_process_group, wait_for_http
from vitrina_shared.redis_layout import POPULAR, encode_ranking
from vitrina_shared.redis_server import PrivateRedis, free_port

# wrk picks a random known user per request; its Lua runs inside wrk, not in Python.
USERS_SCRIPT = """
math.randomseed(42)
request = function()
  return wrk.format("GET", "/recommendations/u" .. math.random(0, {users} - 1) .. "?k={k}")
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def publish(url: str, users: int, items: int, top_k: int, seed: int = 7) -> float:
    """Write one version the way the trainer does (ModelStore), returning the seconds it took."""
    rng = np.random.default_rng(seed)
    catalog = np.array([f"i{n}" for n in range(items)])
    scores = np.sort(rng.random(top_k))[::-1].round(6).tolist()
    started = time.perf_counter()
    client = redis.Redis.from_url(url)
    store = ModelStore(client)
    writer = store.begin()

    def user_lists():
        for user in range(users):
            picks = catalog[rng.choice(items, top_k + 5, replace=False)].tolist()
            yield f"u{user}", encode_ranking(picks[:top_k], scores, picks[top_k:])

    writer.write_users(user_lists())
    writer.write_similar(
        (f"i{n}", encode_ranking(catalog[rng.choice(items, top_k, replace=False)], scores))
        for n in range(items)
    )
    writer.write_fallbacks([(POPULAR, encode_ranking(catalog[:top_k].tolist(), scores))])
    writer.write_meta({"top_k": top_k, "trained_at": "synthetic", "data": {"users": users}})
    store.activate(writer.version)
    client.close()
    return time.perf_counter() - started


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    try:
        wait_for_http(f"{base}/ready", process, timeout)
    except ServiceStartError as exc:
        raise SystemExit(f"vitrina-reco: {exc}") from exc


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * UNITS[unit]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, connections: int, seconds: int, script: Path | None, pid: int) -> dict:
    """One wrk run; adds the server's CPU time per request, which machine load barely changes."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    cpu = cpu_seconds(pid) - cpu_before
    percentiles = dict(re.findall(r"^\s+(50|99)\.000%\s+(\S+)$", out, re.MULTILINE))
    if not percentiles:
        percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "p50_ms": to_ms(percentiles["50"]),
        "p99_ms": to_ms(percentiles["99"]),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        "cpu_us": cpu / max(requests, 1) * 1e6,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--top-k", type=int, default=100, help="products stored per user")
    parser.add_argument("--k", type=int, default=10, help="products asked for per request")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--access-log", choices=["on", "off"], default="on")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: install it with `apt-get install wrk` (Debian package)")

    with PrivateRedis() as server, tempfile.TemporaryDirectory(prefix="bench-reco-") as tmp:
        print(f"publishing {args.users:,} users × {args.top_k} products ...", flush=True)
        seconds = publish(server.url, args.users, args.items, args.top_k)
        print(f"published in {seconds:.1f} s", flush=True)
        script = Path(tmp) / "users.lua"
        script.write_text(USERS_SCRIPT.format(users=args.users, k=args.k))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "REDIS_URL": server.url,
            "RECO_API_TOKEN": "",
            "RECO_ACCESS_LOG": "true" if args.access_log == "on" else "false",
        }
        log_path = Path(tmp) / "reco.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "vitrina-reco"), "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_ready(base, process)
                wrk(f"{base}/health", 8, 2, None, process.pid)  # warm-up
                wrk(base, 8, 2, script, process.pid)
                results = {}
                for name, url, lua in (
                    ("recommendations", base, script),
                    ("health (ceiling)", f"{base}/health", None),
                ):
                    for connections in (1, 32):
                        results[name, connections] = wrk(
                            url, connections, args.seconds, lua, process.pid
                        )
            finally:
                stop_process_group(process)
        report(args, results)


def report(args: argparse.Namespace, results: dict) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\nreco-service, 1 uvicorn worker, {args.users:,} users, k={args.k} of {args.top_k} "
        f"stored, access log {args.access_log}, wrk -t1, {args.seconds} s per run; "
        f"{os.cpu_count()} cores shared with wrk, Redis and anything else running "
        f"(load average now {load})"
    )
    print(
        f"{'endpoint':<20}{'conc.':>6}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}"
        f"{'server CPU/req':>16}{'errors':>8}"
    )
    for (name, connections), r in results.items():
        print(
            f"{name:<20}{connections:>6}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}{r['rps']:>9.0f}"
            f"{r['cpu_us']:>13.0f} us{r['errors']:>8}  {r['socket_errors']}"
        )
    for connections in (1, 32):
        reco, health = (
            results["recommendations", connections],
            results["health (ceiling)", connections],
        )
        print(
            f"concurrency {connections}: recommendations reach {reco['rps'] / health['rps']:.0%} "
            f"of the ceiling's requests/s; by server CPU per request "
            f"{health['cpu_us'] / reco['cpu_us']:.0%}"
        )
    one, many = results["recommendations", 1], results["recommendations", 32]
    ceiling = results["health (ceiling)", 32]["rps"]
    verdicts = [
        f"p50 < 1 ms at concurrency 1: {'met' if one['p50_ms'] < 1 else 'MISSED'}",
        f"p99 < 5 ms at concurrency 1: {'met' if one['p99_ms'] < 5 else 'MISSED'}",
        f"p99 < 5 ms at concurrency 32: {'met' if many['p99_ms'] < 5 else 'MISSED'}",
        f">= 80 % of the ceiling at 32: {'met' if many['rps'] >= 0.8 * ceiling else 'MISSED'}",
    ]
    print("aims: " + "; ".join(verdicts))


if __name__ == "__main__":
    main()
