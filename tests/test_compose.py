"""The real stack under a real container engine, checked the way a user would check it.

Builds the images from this checkout, starts `docker-compose.yml` with fresh random secrets on
free ports under a compose project of its own, and removes everything it made at the end. The
engine is the container kit beside the repository (`../shared/containers`: podman behind the
Docker API, docker-compose 1.29); without it, or on a machine where it cannot run containers
(its `setup` exits 77), the tests skip and say why. The steps share one stack and run in order.
"""

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from vitrina_shared.redis_server import free_port

REPO = Path(__file__).resolve().parent.parent
KIT = REPO.parent / "shared" / "containers"
FIRST_MODEL_MINUTES = 10  # the bar: a fresh `up` serves personal recommendations within this
sys.path.insert(0, str(REPO / "deploy"))
from new_env import with_secrets  # noqa: E402

sys.path.pop(0)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(40 * 60)]


@dataclass
class Stack:
    env: dict[str, str]
    env_file: Path
    shop_url: str
    reco_url: str
    token: str

    def compose(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return self._run(KIT / "compose", "--env-file", str(self.env_file), *args, timeout=timeout)

    def compose_run(self, *args: str) -> subprocess.CompletedProcess:
        """`docker compose run --rm SERVICE …` (the kit's wrapper)."""
        return self._run(KIT / "compose-run", "--env-file", str(self.env_file), *args, timeout=900)

    def _run(self, *command, timeout: float) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(part) for part in command],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"{command[1:]}: {result.stdout[-3000:]}{result.stderr}"
        return result

    def reco(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(f"{self.reco_url}{path}", headers=headers, timeout=10)

    def active_version(self) -> str:
        return self.reco("/model").json()["version"]

    def wait_for_version(self, version: str) -> None:
        """reco-service re-reads the active version every few seconds: no restart needed."""
        wait_until(lambda: self.active_version() == version, 1, f"reco-service serving {version}")


def wait_until(check, minutes: float, what: str) -> float:
    """Poll `check` until it is true; returns the seconds waited, fails after `minutes`."""
    started = time.monotonic()
    while time.monotonic() - started < minutes * 60:
        try:
            if check():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(3)
    pytest.fail(f"{what}: not within {minutes} minutes")


@pytest.fixture(scope="module")
def engine() -> None:
    if not (KIT / "setup").exists():
        pytest.skip(f"no container kit at {KIT}")
    result = subprocess.run([KIT / "setup", "."], cwd=REPO, capture_output=True, text=True)
    if result.returncode == 77:
        pytest.skip(f"no containers on this machine: {result.stdout.strip()[-300:]}")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def stack(engine, tmp_path_factory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("compose")
    env_file = folder / "stack.env"
    example = (REPO / "deploy" / ".env.example").read_text()
    env_file.write_text(with_secrets(example) + "SHOP_DEMO_SWITCH=true\n")  # (see env below)
    token = re.search(r"^RECO_API_TOKEN=(.+)$", env_file.read_text(), re.M)[1]
    shop_port, reco_port = free_port(), free_port()
    env = {
        **os.environ,
        # the shell's variables win over the env file's: a project and ports of the test's own
        "COMPOSE_PROJECT_NAME": f"vitrinatest{secrets.token_hex(3)}",
        "SHOP_PORT": f"127.0.0.1:{shop_port}",
        "RECO_PORT": f"127.0.0.1:{reco_port}",
        "SHOP_DEMO_SWITCH": "true",
        # this test's HTTP client, unlike a browser, sends no Secure cookie to plain http://
        "SHOP_SECURE_COOKIES": "false",
    }
    env.pop("VITRINA_ENV", None)
    stack = Stack(
        env, env_file, f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{reco_port}", token
    )
    try:
        started = time.monotonic()
        stack.compose("up", "--build", "-d", timeout=1800)
        print(f"\nbuild and up: {time.monotonic() - started:.0f} s")
        yield stack
    finally:  # nothing of the test stays: containers, network, volumes, the images it built
        subprocess.run(
            [KIT / "compose", "--env-file", env_file, "down", "-v", "--rmi", "local"],
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=600,
        )
        trainer_image = f"{env['COMPOSE_PROJECT_NAME']}-trainer:local"  # named: not "local"
        subprocess.run(["podman", "rmi", trainer_image], capture_output=True, timeout=300)


def customers(stack: Stack) -> list[str]:
    """Customers of the data, as the demo switch lists them (most active first)."""
    page = httpx.get(f"{stack.shop_url}/demo/", timeout=10)
    page.raise_for_status()
    return re.findall(r'name="user_id" value="([^"]+)"', page.text)


def home_page_as(stack: Stack, user_id: str) -> str:
    """Browse as `user_id` with the demo switch, as a visitor would, and return the home page."""
    with httpx.Client(base_url=stack.shop_url, timeout=10, follow_redirects=True) as browser:
        form = browser.get("/demo/")
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)[1]
        page = browser.post("/demo/", data={"csrf_token": csrf, "user_id": user_id})
        page.raise_for_status()
        return page.text


def personal_shelf_version(html: str) -> str | None:
    """The model version of the home page's "Recommended for you" shelf, when it is personal."""
    shelf = re.search(r'data-testid="recommended" data-source="personal"[^>]*', html)
    version = re.search(r'data-model-version="([^"]+)"', shelf[0]) if shelf else None
    return version[1] if version else None


def test_a_fresh_stack_serves_personal_recommendations_within_minutes(stack):
    waited = wait_until(
        lambda: stack.reco("/ready").status_code == 200, FIRST_MODEL_MINUTES, "reco /ready 200"
    )
    print(f"\nup → reco-service ready with the first model: {waited:.0f} s")
    customer = customers(stack)[0]
    answer = stack.reco(f"/recommendations/{customer}?k=10").json()
    assert answer["source"] == "personal" and len(answer["items"]) == 10
    assert personal_shelf_version(home_page_as(stack, customer)) == stack.active_version()
    health = stack.compose("exec", "-T", "trainer", "vitrina-trainer", "health").stdout
    assert health.startswith("healthy: serving version")


def test_reco_service_docs_load(stack):
    docs = httpx.get(f"{stack.reco_url}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert httpx.get(f"{stack.reco_url}/openapi.json", timeout=10).json()["paths"]
    assert httpx.get(f"{stack.reco_url}/model", timeout=10).status_code == 401  # token required


@pytest.mark.parametrize(
    ("service", "absent"),
    [
        ("reco-service", ["pip", "setuptools", "pandas", "numpy", "pyarrow", "lightgbm"]),
        ("shop-service", ["pip", "setuptools", "lightgbm", "rectools"]),
        ("trainer", ["pip", "setuptools"]),
    ],
)
def test_the_running_images_carry_only_what_they_use(stack, service, absent):
    helpers = ["vitrina_shared.redis_server", "vitrina_shared.processes"]
    code = (
        "import importlib.util as u, sys; "
        f"print(' '.join(m for m in {absent + helpers!r} if u.find_spec(m)))"
    )
    args = ["exec", "-T", service, "python", "-c", code]
    assert stack.compose(*args).stdout.split() == []


def test_a_manual_run_is_served_without_a_restart_and_rolled_back(stack):
    first = stack.active_version()
    out = stack.compose_run("trainer", "run").stdout
    second = re.search(r"published version (\S+):", out)[1]
    assert second != first
    stack.wait_for_version(second)
    customer = customers(stack)[0]
    assert personal_shelf_version(home_page_as(stack, customer)) == second
    assert f"active version is now {first}" in stack.compose_run("trainer", "rollback").stdout
    stack.wait_for_version(first)
    status = stack.compose_run("trainer", "status").stdout
    assert first in status and second in status


def test_the_data_survive_down_and_up(stack):
    before = stack.active_version()
    customer = customers(stack)[0]
    stack.compose("down")
    stack.compose("up", "-d")
    wait_until(lambda: stack.reco("/ready").status_code == 200, 5, "reco /ready after up")
    assert stack.active_version() == before  # Redis kept the versions and the rollback
    assert len(stack.compose_run("trainer", "status").stdout.splitlines()) == 3  # header + 2
    wait_until(lambda: customer in customers(stack), 3, "the shop after up")
    assert personal_shelf_version(home_page_as(stack, customer)) == before


def test_down_v_leaves_nothing(stack):
    project = stack.env["COMPOSE_PROJECT_NAME"]
    stack.compose("down", "-v")
    label = f"label=com.docker.compose.project={project}"
    containers = subprocess.run(
        ["podman", "ps", "-a", "-q", "--filter", label], capture_output=True, text=True, check=True
    )
    volumes = subprocess.run(
        ["podman", "volume", "ls", "-q", "--filter", label],
        capture_output=True,
        text=True,
        check=True,
    )
    assert containers.stdout.split() == [] and volumes.stdout.split() == []
