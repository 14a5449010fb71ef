from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from .conftest import make_app


@pytest.fixture
def no_database(tmp_path: Path) -> Flask:
    """An app whose SQLite file cannot even be opened: every query fails."""
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'shop.sqlite3'}", "http://127.0.0.1:9")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def test_health_and_ready_with_a_database(client: FlaskClient) -> None:
    for path in ("/health", "/ready"):
        response = client.get(path)
        assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_without_a_database_health_and_static_answer_and_pages_are_503(no_database: Flask) -> None:
    client = no_database.test_client()
    assert client.get("/health").status_code == 200
    with client.get("/static/style.css") as static:
        assert static.status_code == 200
    assert client.get("/img/placeholder/kitchen.svg").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"] == "5"
    assert "cannot reach its database" in ready.get_data(as_text=True)
    page = client.get("/search?q=mug")  # resting now: no query is even tried
    assert page.status_code == 503
    assert "cannot reach its database" in page.get_data(as_text=True)


def test_the_500_page_needs_neither_database_nor_customer(
    no_database: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vitrina_shop.views.catalog as catalog

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(catalog, "get_db", broken)
    response = no_database.test_client().get("/")  # the header's categories need the database
    assert response.status_code == 500
    assert "Something broke on our side" in response.get_data(as_text=True)


def test_a_busy_database_fails_one_request_without_resting(app: Flask) -> None:
    """SQLite's lock held too long is a 503 for that request only.

    The next page is served, where an unreachable database would answer 503s for DB_REST_S.
    """

    def busy() -> None:
        raise OperationalError("UPDATE cart_lines", {}, Exception("database is locked"))

    app.add_url_rule("/busy", view_func=busy)
    client = app.test_client()
    assert client.get("/busy").status_code == 503
    assert client.get("/").status_code == 200
