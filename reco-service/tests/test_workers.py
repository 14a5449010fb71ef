"""`vitrina-reco --workers N`: workers share connections, a dead one is replaced, SIGTERM ends."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from vitrina_shared.processes import stop_process_group, wait_for_http
from vitrina_shared.redis_server import free_port

from .conftest import publish_version

VITRINA_RECO = str(Path(sys.executable).parent / "vitrina-reco")
CONNECTIONS = 16


def workers_of(supervisor: subprocess.Popen) -> list[psutil.Process]:
    """The live workers: a killed one is a zombie until the supervisor reaps it, and is not one."""
    workers = []
    for child in psutil.Process(supervisor.pid).children():
        with contextlib.suppress(psutil.ZombieProcess, psutil.NoSuchProcess):
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
    return workers


def wait_for_workers(supervisor: subprocess.Popen, count: int, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while len(workers := workers_of(supervisor)) != count:
        assert time.monotonic() < deadline, f"{len(workers)} workers, not {count}"
        time.sleep(0.1)
    return workers


@pytest.fixture
def supervisor(redis_url: str) -> Iterator[tuple[subprocess.Popen, str]]:
    publish_version(redis_url, "v1")
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "RECO_ACCESS_LOG": "false"}
    env.pop("VITRINA_ENV", None)
    process = subprocess.Popen(
        [VITRINA_RECO, "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", process)
        wait_for_workers(process, 2)
        yield process, base
    finally:
        stop_process_group(process)


def test_each_worker_gets_a_share_of_the_connections(supervisor):
    process, base = supervisor
    port = int(base.rsplit(":", 1)[1])
    clients = [httpx.Client(base_url=base, timeout=10) for _ in range(CONNECTIONS)]
    try:
        for client in clients:  # one kept-alive connection each, opened at once
            assert client.get("/recommendations/u1?k=4").json()["source"] == "personal"
        held = [
            sum(
                c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
                for c in worker.net_connections()
            )
            for worker in workers_of(process)
        ]
    finally:
        for client in clients:
            client.close()
    # Shared by address hash: all 16 on one worker has a chance of 2 in 65,536.
    assert sum(held) == CONNECTIONS
    assert min(held) >= 1, held


def test_a_worker_that_dies_is_replaced(supervisor):
    process, base = supervisor
    time.sleep(5.5)  # past the start-up window, where a death means the service cannot start
    killed = workers_of(process)[0]
    killed.kill()
    deadline = time.monotonic() + 30
    while killed.pid in {w.pid for w in wait_for_workers(process, 2)} or killed.is_running():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for _ in range(10):  # new connections reach either worker; every one is answered
        assert httpx.get(f"{base}/recommendations/u2?k=2", timeout=10).status_code == 200


def test_sigterm_stops_every_worker_and_exits_cleanly(supervisor):
    process, _ = supervisor
    workers = workers_of(process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []


def test_ctrl_c_stops_the_workers_and_none_is_restarted(supervisor):
    process, _ = supervisor
    time.sleep(5.5)  # past the start-up window: a worker's end now would mean a restart
    workers = workers_of(process)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal sends the whole group
    assert process.wait(timeout=20) == 0
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    # No worker restarted on the way out: one would stay, serving.
    deadline = time.monotonic() + 10
    while (members := group_members(process.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert members == []


def group_members(group: int) -> list[tuple]:
    members = []
    for other in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(other.pid) == group:
                members.append((other.pid, other.cmdline(), other.status()))
    return members


def test_a_taken_port_is_one_line_and_an_exit(redis_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [VITRINA_RECO, "--port", str(port), "--workers", "2"],
            env={**os.environ, "REDIS_URL": redis_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"vitrina-reco: error: cannot bind 127.0.0.1:{port}: [Errno 98] Address already in use"
    ]
