"""Waiting for and stopping the service processes the demo, the tests and the benchmarks start."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

# Loopback only: no proxy from the environment may stand between us and our own service.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServiceStartError(RuntimeError):
    """The service exited or did not answer in time; the message says which."""


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Return once `url` answers 200; fail fast if the process serving it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(f"{url}: the process exited with code {process.returncode}")
        try:
            with _DIRECT.open(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or not ready (a non-200 answer raises HTTPError)
        time.sleep(0.1)
    raise ServiceStartError(f"{url} did not answer 200 in {timeout:.0f} s")


def stop_process_group(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM to the process's whole group (a server and its workers), SIGKILL if it lingers.

    The process must have been started with `start_new_session=True`, so that it leads a group.
    """
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
