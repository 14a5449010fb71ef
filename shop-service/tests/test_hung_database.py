"""The real server (gunicorn) in front of a PostgreSQL that hangs.

A TCP proxy we control stops forwarding, as a frozen database server or a stalled network would.
"""

import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from flask import Flask
from sqlalchemy import make_url

from vitrina_shared.processes import wait_for_http
from vitrina_shop.db import REST_S, STATEMENT_TIMEOUT_S

from .conftest import FakeReco


class HangingProxy:
    """Forwards TCP to `upstream` until `hang` is set; then holds every byte, both ways."""

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.hang = threading.Event()
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                thread = threading.Thread(target=self._pump, args=(source, target), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while not self._stop.is_set():
            if self.hang.is_set():
                time.sleep(0.02)
                continue
            if not select.select([source], [], [], 0.02)[0]:
                continue
            try:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
            except OSError:
                break

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for sock in [self._listener, *self._sockets]:
            sock.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def proxy(database_url: str) -> Iterator[HangingProxy]:
    url = make_url(database_url)
    hanging = HangingProxy(url.host or "127.0.0.1", url.port or 5432)
    yield hanging
    hanging.close()


@pytest.fixture
def shop_behind_proxy(
    app: Flask, database_url: str, proxy: HangingProxy, fake_reco: FakeReco, tmp_path
) -> Iterator[str]:
    """`vitrina-shop`, one worker of four threads, its database reached through the proxy."""
    through = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": through.render_as_string(hide_password=False),
        "RECO_URL": fake_reco.url,
        "DATA_DIR": str(tmp_path),
        "VITRINA_ENV": "development",
    }
    command = [sys.executable, "-m", "vitrina_shop.cli", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/health", server)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _timed_get(url: str) -> tuple[int, float, httpx.Headers]:
    started = time.monotonic()
    response = httpx.get(url, timeout=60)
    return response.status_code, time.monotonic() - started, response.headers


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_hung_database_leaves_health_and_static_fast_and_pages_503(
    shop_behind_proxy: str, proxy: HangingProxy
) -> None:
    base = shop_behind_proxy
    status, _, headers = _timed_get(f"{base}/products")
    assert status == 200 and "server" not in headers  # gunicorn does not name itself
    proxy.hang.set()
    with ThreadPoolExecutor(12) as pool:
        pages = [pool.submit(_timed_get, f"{base}/products?page={n % 2 + 1}") for n in range(12)]
        time.sleep(0.3)  # the twelve are in flight, holding or waiting for connections
        quick = {
            path: _timed_get(f"{base}{path}")
            for path in ("/health", "/static/style.css", "/img/placeholder/kitchen.svg")
        }
        answers = [page.result() for page in pages]
    print(
        "\nwhile the database hangs:",
        {path: f"{t * 1000:.0f} ms" for path, (_, t, _) in quick.items()},
    )
    print("the twelve pages:", sorted(f"{code} in {t:.1f} s" for code, t, _ in answers))
    for status, elapsed, _ in quick.values():
        assert status == 200
        assert elapsed < STATEMENT_TIMEOUT_S  # never waits for the database's deadline
    assert {code for code, _, _ in answers} == {503}
    assert max(t for _, t, _ in answers) < STATEMENT_TIMEOUT_S + 3  # bounded, never a hang
    proxy.hang.clear()
    time.sleep(REST_S)
    deadline = time.monotonic() + 30
    while _timed_get(f"{base}/products")[0] != 200:  # the pool renews its connections
        assert time.monotonic() < deadline
        time.sleep(0.5)
