import subprocess
import sys

from vitrina_shared.processes import stop_process_group

SPAWNS_A_CHILD = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
    "print(child.pid, flush=True); time.sleep(60)"
)
IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def gone(pid: int) -> bool:
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return state.stdout.strip() in ("", "Z")


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
