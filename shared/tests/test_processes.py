import subprocess
import sys
import time

import pytest

from vitrina_shared.processes import ServiceStartError, stop_process_group, wait_for_http

SPAWNS_A_CHILD = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(child.pid, flush=True); time.sleep(60)"
)
IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def gone(pid: int, within_s: float = 5.0) -> bool:
    """Gone (or a zombie) within a few seconds.

    The group's signal reaches a child that a loaded machine may schedule only a moment after
    its parent has been waited for.
    """
    deadline = time.monotonic() + within_s
    while True:
        ps = ["ps", "-o", "stat=", "-p", str(pid)]
        state = subprocess.run(ps, capture_output=True, text=True)
        if state.stdout.strip() in ("", "Z"):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_stops_the_whole_group():
    parent = subprocess.Popen(
        [sys.executable, "-c", SPAWNS_A_CHILD], stdout=subprocess.PIPE, start_new_session=True
    )
    child = int(parent.stdout.readline())
    stop_process_group(parent)
    parent.stdout.close()
    assert parent.returncode is not None
    assert gone(child)


def test_kills_what_ignores_sigterm():
    stubborn = subprocess.Popen(
        [sys.executable, "-c", IGNORES_SIGTERM], stdout=subprocess.PIPE, start_new_session=True
    )
    stubborn.stdout.readline()
    stop_process_group(stubborn, timeout=0.5)
    stubborn.stdout.close()
    assert stubborn.returncode == -9


def test_an_exited_process_is_left_alone():
    done = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    done.wait()
    stop_process_group(done)
    assert done.returncode == 0


def serve_once(tmp_path, status: int) -> subprocess.Popen:
    """A tiny HTTP server answering `status`; prints its port once listening."""
    script = (
        "import http.server, sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        f"    def do_GET(self): self.send_response({status}); self.end_headers()\n"
        "    def log_message(self, *a): pass\n"
        "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
        "print(s.server_port, flush=True)\n"
        "s.serve_forever()\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, start_new_session=True
    )


def test_wait_for_http_returns_once_the_service_answers(tmp_path):
    server = serve_once(tmp_path, 200)
    port = int(server.stdout.readline())
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", server, timeout=10)
    finally:
        stop_process_group(server)
        server.stdout.close()


def test_wait_for_http_times_out_on_a_service_that_is_not_ready(tmp_path):
    server = serve_once(tmp_path, 503)
    port = int(server.stdout.readline())
    try:
        with pytest.raises(ServiceStartError, match="did not answer 200 in 1 s"):
            wait_for_http(f"http://127.0.0.1:{port}/ready", server, timeout=1)
    finally:
        stop_process_group(server)
        server.stdout.close()


def test_wait_for_http_fails_fast_when_the_process_exits():
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)
    with pytest.raises(ServiceStartError, match="exited with code 3"):
        wait_for_http("http://127.0.0.1:9/", dead, timeout=30)
