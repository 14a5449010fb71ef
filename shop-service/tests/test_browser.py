"""A customer in a real browser: headless Chromium against the real shop and the real reco-service.

Both run as subprocesses on loopback ports, reco-service reading a model published through
`ModelStore` (the trainer's publishing path). The home page's screenshot is saved to
`test-artifacts/home.png`.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from vitrina_shared.model_store import ModelStore
from vitrina_shared.processes import ServiceStartError, stop_process_group, wait_for_http
from vitrina_shared.redis_layout import POPULAR, encode_ranking
from vitrina_shared.redis_server import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "browser-test-token"


def _publish(url: str) -> None:
    """u1's model: the lamp first, then the blue mug; the mugs are similar to each other."""
    client = redis.Redis.from_url(url)
    store = ModelStore(client)
    writer = store.begin("v-browser")
    reasons = ["popular_in_category:home.lighting", "similar_to:A1", "popular"]
    ranking = encode_ranking(["B1", "A2", "C1"], [0.9, 0.8, 0.7], ["A1"], reasons)
    writer.write_users([("u1", ranking)])
    writer.write_similar([("B1", encode_ranking(["A1", "A2"], [0.5, 0.4]))])
    writer.write_fallbacks([(POPULAR, encode_ranking(["A1", "B1", "C1"], [3.0, 2.0, 1.0]))])
    writer.write_meta({"top_k": 50, "trained_at": "2026-11-28T03:00:00+00:00"})
    store.activate("v-browser")
    client.close()


def _wait(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    try:
        wait_for_http(url, process, timeout)
    except ServiceStartError as exc:
        pytest.fail(f"{exc}: {log.read_text()[-2000:]}")


class Processes:
    def __init__(self, logs: Path):
        self.logs = logs
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(BIN / command[0]), *command[1:]],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(process)
        return process

    def stop(self) -> None:
        for process in self.running:
            stop_process_group(process)


@pytest.fixture
def stack(redis_url: str, tmp_path: Path, data_files: tuple[Path, Path]) -> Iterator[str]:
    """reco-service and the shop, started like in production; yields the shop's address."""
    _publish(redis_url)
    processes = Processes(tmp_path)
    reco_port, shop_port = free_port(), free_port()
    common = {"VITRINA_ENV": "development", "DATA_DIR": str(tmp_path), "RECO_API_TOKEN": TOKEN}
    try:
        reco = processes.start(
            "reco",
            ["vitrina-reco", "--port", str(reco_port)],
            {**common, "REDIS_URL": redis_url},
        )
        _wait(f"http://127.0.0.1:{reco_port}/health", reco, tmp_path / "reco.log")
        shop_env = {
            **common,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
            "RECO_URL": f"http://127.0.0.1:{reco_port}",
            "REDIS_URL": redis_url,  # the admin dashboard reads the model store
            "SHOP_SECRET_KEY": "browser-test-secret",
            # The default 300 ms can be missed on a loaded CI machine: the page would show the
            # fallback and the test would fail for the machine's sake, not the shop's.
            "RECO_TIMEOUT_MS": "5000",
            "ITEMS": str(data_files[0]),
            "EVENTS": str(data_files[1]),
        }
        shop = processes.start(
            "shop", ["vitrina-shop", "--port", str(shop_port), "--workers", "1"], shop_env
        )
        _wait(f"http://127.0.0.1:{shop_port}/health", shop, tmp_path / "shop.log")
        yield f"http://127.0.0.1:{shop_port}"
    finally:
        processes.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` to run this test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_recommended_product_to_order(stack: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{stack}/demo/")
    page.get_by_role("button", name="Browse as u1").click()
    page.wait_for_url(f"{stack}/")

    recommended = page.get_by_test_id("recommended")
    assert recommended.get_attribute("data-source") == "personal"
    assert recommended.get_attribute("data-model-version") == "v-browser"
    titles = recommended.locator(".card-title").all_inner_texts()
    assert titles == ["Desk lamp", "Blue mug", "Notebook"]  # the discovery order: no Red mug
    blue_mug = recommended.locator(".card").nth(1)
    assert blue_mug.get_by_test_id("reason").inner_text() == "Similar to “Red mug”"
    assert blue_mug.get_by_test_id("reason").is_visible()
    page.wait_for_function(  # the placeholders on screen are drawn, none is broken
        "Array.from(document.querySelectorAll('.card img'))"
        ".slice(0, 4).every(img => img.complete && img.naturalWidth > 0)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)

    recommended.get_by_text("Desk lamp").click()
    page.wait_for_url(f"{stack}/product/B1?r=*")  # a recommended click carries its reference
    assert page.get_by_test_id("price").inner_text() == "1\u00a0990\u00a0₽"
    similar = page.get_by_test_id("similar")
    assert similar.get_attribute("data-source") == "similar"
    page.get_by_role("button", name="Add to cart").click()
    page.wait_for_url(f"{stack}/cart/")
    assert page.get_by_test_id("cart-count").inner_text() == "1"

    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Delivery address").fill("1 Main Street, Springfield")
    page.get_by_role("button", name="Place order").click()
    assert page.get_by_test_id("order-title").inner_text().startswith("Order №")
    assert page.get_by_test_id("order-line").all_inner_texts()[0].startswith("Desk lamp")

    page.goto(f"{stack}/")  # the lamp was bought: the cart is empty, recommendations remain
    assert page.get_by_test_id("cart-count").inner_text() == "0"
    page.close()


def test_a_guests_first_view_changes_their_home_page(stack: str, browser) -> None:
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{stack}/")
    assert page.get_by_test_id("recommended").count() == 0
    page.goto(f"{stack}/product/B1")  # reported to reco-service in the background
    for _ in range(50):  # the report is asynchronous: a few page loads at most
        page.goto(f"{stack}/")
        if page.get_by_test_id("recommended").count():
            break
        page.wait_for_timeout(100)
    recommended = page.get_by_test_id("recommended")
    assert recommended.get_attribute("data-source") == "session"
    cards = recommended.locator(".card")
    assert cards.locator(".card-title").all_inner_texts()[:2] == ["Desk lamp", "Red mug"]
    assert cards.nth(0).get_by_test_id("reason").inner_text() == "You viewed this today"
    assert cards.nth(1).get_by_test_id("reason").inner_text() == "Similar to “Desk lamp”"
    page.close()


def test_admin_dashboard_runs_an_experiment(stack: str, browser, tmp_path: Path, redis_url: str):
    env = {
        **os.environ,
        "VITRINA_ENV": "development",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "REDIS_URL": redis_url,
    }
    subprocess.run(
        [BIN / "vitrina-shop", "create-admin", "boss@example.com", "--password-stdin"],
        input="correct-horse\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    customer = browser.new_page()
    customer.set_default_timeout(10_000)
    customer.goto(f"{stack}/demo/")
    customer.get_by_role("button", name="Browse as u1").click()
    assert customer.goto(f"{stack}/admin/").status == 404  # a customer never sees it

    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    admin.set_default_timeout(10_000)
    admin.goto(f"{stack}/auth/login")
    admin.get_by_label("Email").fill("boss@example.com")
    admin.get_by_label("Password").fill("correct-horse")
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(f"{stack}/admin/")
    models = admin.get_by_test_id("admin-models")
    assert "v-browser (active)" in models.inner_text()
    assert "ready" in admin.get_by_test_id("admin-health").inner_text()

    form = admin.get_by_test_id("new-experiment")
    form.get_by_label("Name").first.fill("ab")
    form.get_by_role("button", name="Start").click()
    admin.wait_for_url(f"{stack}/admin/experiments/ab")
    assert admin.get_by_test_id("kpi-table").is_visible()

    for _ in range(40):  # each worker learns of the experiment within a few seconds
        customer.goto(f"{stack}/")
        admin.reload()
        seen = [admin.get_by_test_id(f"visitors-{v}").inner_text() for v in ("control", "personal")]
        if sorted(seen) == ["0", "1"]:
            break
        admin.wait_for_timeout(250)
    assert sorted(seen) == ["0", "1"]
    assert admin.get_by_test_id("srm").inner_text().startswith("ok")
    ARTIFACTS.mkdir(exist_ok=True)
    admin.screenshot(path=str(ARTIFACTS / "admin-experiment.png"), full_page=True)


def test_what_a_guest_viewed_stays_in_their_list_once_they_signed_up(stack: str, browser) -> None:
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{stack}/product/B1")  # a guest's view, reported to reco-service
    page.goto(f"{stack}/auth/register")
    page.get_by_label("Name").fill("Ann")
    page.get_by_label("Email").fill("ann@example.com")
    page.get_by_label("Password", exact=True).fill("correct-horse")
    page.get_by_label("Repeat password").fill("correct-horse")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{stack}/")
    for _ in range(50):  # the report is asynchronous: a few page loads at most
        if page.get_by_test_id("recommended").get_attribute("data-source") == "session":
            break
        page.wait_for_timeout(100)
        page.goto(f"{stack}/")
    recommended = page.get_by_test_id("recommended")
    assert recommended.get_attribute("data-source") == "session"  # a new customer: no daily list
    first = recommended.locator(".card").nth(0)
    assert first.locator(".card-title").inner_text() == "Desk lamp"
    assert first.get_by_test_id("reason").inner_text() == "You viewed this today"
    page.close()
