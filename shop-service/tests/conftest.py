"""Fixtures of the shop's tests.

The app on SQLite (and PostgreSQL when TEST_DATABASE_URL is set), a tiny hand-written catalog and
event file, and a fake reco-service we can make slow or broken.
"""

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from vitrina_shop import create_app
from vitrina_shop.db import engine_of, initialize

ITEMS_CSV = """nm,title,category,price100
A1,Red mug,kitchen.mugs,49900
A2,Blue mug,kitchen.mugs,59950
B1,Desk lamp,home.lighting,199000
C1,Notebook,,12000
"""
BIG_ID = "340282366920938463463374607431768211455"
HEADER = "platform,utc_event_time,utc_event_date,user_id,event_type,ecom.price100,ecom.qty,ecom.nm"
EVENTS_CSV = f"""{HEADER}
Site,2024-01-01 10:00:00+00:00,2024-01-01,u1,view_item,49900,1,A1
Site,2024-01-01 10:01:00+00:00,2024-01-01,u1,purchase,49900,2,A1
Android,2024-01-02 09:00:00+00:00,2024-01-02,u2,view_item,199000,1,B1
Android,2024-01-02 09:05:00+00:00,2024-01-02,u2,add_to_cart,199000,1,B1
iOS,2024-01-03 12:00:00+00:00,2024-01-03,{BIG_ID},view_item,1000,1,X9
iOS,2024-01-04 12:00:00+00:00,2024-01-04,{BIG_ID},purchase,1500,1,X9
"""


@pytest.fixture
def data_files(tmp_path: Path) -> tuple[Path, Path]:
    items, events = tmp_path / "items.csv", tmp_path / "events.csv"
    items.write_text(ITEMS_CSV)
    events.write_text(EVENTS_CSV)
    return items, events


@dataclass
class FakeReco:
    """reco-service's contract, served from a dict: path → (status, JSON body)."""

    url: str = ""
    answers: dict[str, tuple[int, object]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]], str | None]] = field(default_factory=list)
    delay_s: float = 0.0

    posted: list[dict] = field(default_factory=list)  # the bodies of POST /events
    events_delay_s: float = 0.0  # POST /events alone hangs this long

    def answer(
        self,
        path: str,
        items: list[str],
        source: str = "personal",
        status: int = 200,
        reasons: list[str | None] | None = None,
    ) -> None:
        why = reasons or [None] * len(items)
        body = {
            "items": [
                {"item_id": i, "score": 1.0 - n / 100, "reason": r}
                for n, (i, r) in enumerate(zip(items, why, strict=True))
            ],
            "model_version": "v-test",
            "source": source,
            "fallback_items": 0,
        }
        self.answers[path] = (status, body)


def _handler(fake: FakeReco) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            fake.requests.append(
                (parts.path, parse_qs(parts.query), self.headers.get("Authorization"))
            )
            if fake.delay_s:
                time.sleep(fake.delay_s)
            status, body = fake.answers.get(parts.path, (404, {"detail": "unknown"}))
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the shop gave up waiting: that is the point of the slow tests

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(fake.events_delay_s)
            fake.posted.append(json.loads(body))
            payload = b'{"accepted": 1}'
            try:
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake_reco() -> Iterator[FakeReco]:
    fake = FakeReco()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    server.block_on_close = False
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every app test runs on SQLite, and on PostgreSQL in a private schema when CI gives one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        return
    base = request.getfixturevalue("test_database_url")
    schema = f"shop_test_{secrets.token_hex(4)}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# How long a test waits for a fake reco-service that should answer: the production 300 ms is
# short enough for a loaded CI machine to miss, which would turn an answer into the fallback.
# Tests about slowness set their own short timeout.
ANSWER_TIMEOUT_S = 5.0


def make_app(database_url: str, reco_url: str, **config: object) -> Flask:
    return create_app(
        {
            "DATABASE_URL": database_url,
            "RECO_URL": reco_url,
            "RECO_TIMEOUT_MS": int(ANSWER_TIMEOUT_S * 1000),
            "SECRET_KEY": "test-secret",
            "CURRENCY": "RUB",
            "DEMO_SWITCH": True,
            "PAGE_SIZE": 2,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast to test; scrypt in production
            "THROTTLE_STORAGE_URL": None,  # memory, whatever REDIS_URL the machine has
            **config,
        }
    )


@pytest.fixture
def app(database_url: str, fake_reco: FakeReco, data_files: tuple[Path, Path]) -> Iterator[Flask]:
    app = make_app(database_url, fake_reco.url)
    items, events = data_files
    initialize(app, items, [events])
    yield app
    close_app(app)


def close_app(app: Flask) -> None:
    """What the test showed is written to the exposure log first: not into a dropped schema."""
    app.extensions["vitrina_exposure"].flush()
    app.extensions["vitrina_exposure"].engine.dispose()
    app.extensions["vitrina_reco"].close()
    engine_of(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Shopper:
    """The repeated actions of a visitor, each through the real pages and their CSRF tokens."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def csrf(self, page: str = "/auth/login") -> str:
        match = CSRF.search(self.client.get(page).get_data(as_text=True))
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def register(self, email: str = "ann@example.com", password: str = "correct-horse") -> object:
        return self.client.post(
            "/auth/register",
            data={
                "name": "Ann",
                "email": email,
                "password": password,
                "confirm": password,
                "csrf_token": self.csrf("/auth/register"),
            },
        )

    def login(self, email: str = "ann@example.com", password: str = "correct-horse") -> object:
        return self.client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": self.csrf()},
        )

    def logout(self) -> object:
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf()})

    def browse_as(self, user_id: str) -> object:
        return self.client.post(
            "/demo/", data={"user_id": user_id, "csrf_token": self.csrf("/demo/")}
        )

    def add_to_cart(self, product_id: str, qty: object = 1) -> object:
        return self.client.post(
            f"/cart/add/{product_id}", data={"qty": qty, "csrf_token": self.csrf()}
        )

    def checkout(self, address: str = "1 Main Street, Springfield") -> object:
        return self.client.post(
            "/orders/checkout",
            data={"name": "Ann", "address": address, "csrf_token": self.csrf()},
        )


@pytest.fixture
def shopper(client: FlaskClient) -> Shopper:
    return Shopper(client)


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app behind werkzeug's threaded server: a thread per request, as real clients see it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of a page's first form with a CSRF token (token, checkout key …)."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if 'type="hidden"' in tag and name and value:
            fields.setdefault(name.group(1), value.group(1))
    return fields


class LiveShopper:
    """A visitor of the live server: one cookie jar that many threads may share."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def csrf(self, page: str = "/auth/login") -> str:
        match = CSRF.search(self.http.get(page).text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post(self, path: str, data: dict[str, object]) -> httpx.Response:
        """A POST sent with the cookies as they are now.

        The answer's cookies are not kept, so concurrent posts all carry the same session (a
        browser's double click).
        """
        return httpx.post(
            f"{self.http.base_url}{path}", data=data, cookies=dict(self.http.cookies), timeout=30.0
        )

    def browse_as(self, user_id: str) -> None:
        self.http.post("/demo/", data={"user_id": user_id, "csrf_token": self.csrf("/demo/")})
