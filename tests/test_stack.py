"""The whole stack, started the way `make demo` starts it, checked as a user would.

Synthetic data → a training run → a private Redis → reco-service and the shop on free ports.
The shop shows the customer what reco-service recommends; a purchase lands in the event log, a
second run publishes a new version that is served without a restart; with reco-service stopped
the shop still works; afterwards no process is left.
"""

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack import Stack, StackConfig

from vitrina_shared.redis_server import free_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def shelf(html: str, testid: str) -> tuple[dict[str, str], list[str]]:
    """A product block's data attributes and the product ids it links to, in order."""
    section = re.search(
        rf'<section class="shelf" data-testid="{testid}"(.*?)</section>', html, re.S
    )
    assert section, f"no {testid!r} block on the page"
    head, body = section.group(1).split(">", 1)
    attributes = dict(re.findall(r'data-([\w-]+)="([^"]*)"', head))
    return attributes, re.findall(r'href="/product/([^"?]+)[^"]*"', body)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return not state.stdout.strip().startswith("Z")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    subprocess.run(
        [BIN / "vitrina-trainer", "generate", "--out", folder, "--users", "600", "--items", "300"],
        check=True,
        capture_output=True,
    )
    return folder


@pytest.fixture(scope="module")
def stack(data: Path, tmp_path_factory) -> Iterator[Stack]:
    config = StackConfig(
        data_dir=tmp_path_factory.mktemp("run"),
        events=[data / "events.csv.gz"],
        items=data / "items.csv",
        redis_port=free_port(),
        reco_port=free_port(),
        shop_port=free_port(),
        quiet=True,
    )
    running = Stack(config).start()
    pids = [p.pid for p in running.processes.values()] + [running.redis.process.pid]
    yield running
    running.stop()
    assert not [pid for pid in pids if alive(pid)], "processes left behind"
    for port in (config.redis_port, config.reco_port, config.shop_port):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)


@pytest.fixture(scope="module")
def reco(stack: Stack) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {stack.config.api_token}"}
    with httpx.Client(base_url=stack.reco_url, headers=headers, timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def customer(stack: Stack, data: Path) -> Iterator[tuple[httpx.Client, str]]:
    """A customer of the data with purchases, signed in through the demo switch."""
    import pandas as pd

    events = pd.read_csv(data / "events.csv.gz", dtype=str)
    user_id = events.loc[events["event_type"] == "purchase", "user_id"].value_counts().index[0]
    client = httpx.Client(base_url=stack.shop_url, timeout=10, follow_redirects=True)
    token = csrf(client.get("/demo/").text)
    answer = client.post("/demo/", data={"csrf_token": token, "user_id": user_id})
    assert answer.status_code == 200 and str(answer.url) == f"{stack.shop_url}/"
    yield client, user_id
    client.close()


def test_reco_service_is_ready_and_documents_itself(stack: Stack, reco: httpx.Client):
    ready = httpx.get(f"{stack.reco_url}/ready", timeout=5)
    assert ready.status_code == 200 and ready.json()["ready"] is True
    docs = httpx.get(f"{stack.reco_url}/docs", timeout=5)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert httpx.get(f"{stack.reco_url}/popular", timeout=5).status_code == 401  # token needed
    assert reco.get("/popular", params={"k": 5}).status_code == 200


def test_home_shows_the_personal_recommendations_of_reco_service(customer, reco):
    client, user_id = customer
    # The shop asks for the discovery order: products new to the customer.
    params = {"k": 50, "exclude_bought": "true"}
    answer = reco.get(f"/recommendations/{user_id}", params=params).json()
    assert answer["source"] == "personal"
    expected = [item["item_id"] for item in answer["items"]]
    attributes, shown = shelf(client.get("/").text, "recommended")
    assert attributes["source"] == "personal"
    assert attributes["model-version"] == answer["model_version"]
    assert shown and shown == expected[: len(shown)]


def test_purchase_is_logged_and_a_second_run_is_served_without_restart(
    stack: Stack, customer, reco, data: Path
):
    client, user_id = customer
    before = reco.get("/model").json()["version"]
    product = shelf(client.get("/").text, "popular")[1][0]
    page = client.get(f"/product/{product}").text
    client.post(f"/cart/add/{product}", data={"csrf_token": csrf(page), "qty": 2})
    checkout = client.get("/orders/checkout").text
    form = {"csrf_token": csrf(checkout), "name": "Test Customer", "address": "1 Main Street"}
    assert client.post("/orders/checkout", data=form).status_code == 200

    with sqlite3.connect(stack.shop_db_url.removeprefix("sqlite:///")) as db:
        logged = db.execute(
            "SELECT event_type, qty FROM events WHERE user_id = ? AND nm = ?", (user_id, product)
        ).fetchall()
    assert ("purchase", 2) in logged and ("view_item", 1) in logged

    stack.train([data / "events.csv.gz"], data / "items.csv")
    deadline = time.monotonic() + 10
    while (after := reco.get("/model").json()["version"]) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert after != before
    assert reco.get(f"/recommendations/{user_id}").json()["model_version"] == after


def test_shop_works_with_reco_service_stopped(stack: Stack, customer):
    client, _ = customer
    stack.stop_process("reco-service")
    started = time.monotonic()
    home = client.get("/")
    assert home.status_code == 200
    assert time.monotonic() - started < 3
    _, shown = shelf(home.text, "popular")
    assert shown, "the fallback shows popular products from the shop's own data"
