"""Stopping the service processes the demo, the tests and the benchmarks start."""

import os
import signal
import subprocess


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
