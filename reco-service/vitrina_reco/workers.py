"""Several uvicorn worker processes on one port, each listening on a socket of its own.

uvicorn's own workers share one listening socket, and the worker that runs first accepts every
connection waiting: in `make bench-reco` often 31 of wrk's 32 connections went to one worker and
the second core idled. With SO_REUSEPORT every worker listens on a socket of its own and the kernel
spreads new connections across them by their addresses, as nginx's `reuseport` does.

The supervisor binds the port first (a clear error if it is taken) and holds it without listening,
so no connection is ever queued to it; it restarts a worker that dies, gives up when one dies while
starting, and stops them all on SIGTERM or SIGINT.
"""

import contextlib
import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("vitrina_reco.workers")

# A worker that dies sooner than this after its start failed to start: restarting would loop.
STARTING_S = 5.0
STOP_S = 10.0  # how long a worker may take to finish its requests once told to stop


def reuse_port_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_worker(host: str, port: int, config: dict[str, Any]) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server."""
    sock = reuse_port_socket(host, port)
    # uvicorn re-raises Ctrl+C once it has shut down: a stop, not a crash to print a trace of.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(uvicorn.Config(host=host, port=port, **config)).run(sockets=[sock])


class Supervisor:
    def __init__(self, workers: int, host: str, port: int, config: dict[str, Any]):
        self.count, self.host, self.config = workers, host, config
        try:
            self.held = reuse_port_socket(host, port)
        except OSError as exc:
            raise SystemExit(f"vitrina-reco: error: cannot bind {host}:{port}: {exc}") from None
        self.port = self.held.getsockname()[1]  # port 0: the one the system chose, for all
        self.context = multiprocessing.get_context("spawn")
        self.started: dict[BaseProcess, float] = {}
        self.stopping = False

    def _start(self) -> None:
        process = self.context.Process(
            target=run_worker, args=(self.host, self.port, self.config), name="vitrina-reco-worker"
        )
        process.start()
        self.started[process] = time.monotonic()

    def _stop(self, *_: Any) -> None:
        self.stopping = True

    def run(self) -> int:
        """Serve until told to stop or a worker fails to start; the exit code."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.count):
            self._start()
        code = 0
        while not self.stopping:
            ended = wait([p.sentinel for p in self.started], timeout=0.5)
            for process in [p for p in self.started if p.sentinel in ended]:
                process.join()
                lived = time.monotonic() - self.started.pop(process)
                if self.stopping:  # Ctrl+C reaches the workers too: they stop on their own
                    break
                if lived < STARTING_S:
                    log.error(
                        "a worker exited %.1f s after its start (code %s): stopping",
                        lived,
                        process.exitcode,
                    )
                    self.stopping, code = True, STARTUP_FAILURE
                else:
                    log.warning(
                        "worker %s exited with code %s: restarting", process.pid, process.exitcode
                    )
                    self._start()
        for process in self.started:
            process.terminate()
        deadline = time.monotonic() + STOP_S
        for process in self.started:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        self.held.close()
        return code


def serve(workers: int, host: str, port: int, **config: Any) -> None:
    """Run `workers` uvicorn servers of `config` (uvicorn.Config's arguments) on host:port."""
    raise SystemExit(Supervisor(workers, host, port, config).run())
