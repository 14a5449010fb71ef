from pathlib import Path

from flask.testing import FlaskClient

from .conftest import make_app


def test_health_is_ok_with_a_database(client: FlaskClient) -> None:
    response = client.get("/health")
    assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_health_is_503_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'missing-dir' / 'shop.sqlite3'}", "http://127.0.0.1:9")
    response = app.test_client().get("/health")
    assert (response.status_code, response.json) == (503, {"status": "database unavailable"})
