import pytest
from flask.testing import FlaskClient

from vitrina_shop import CONTENT_SECURITY_POLICY


def test_pages_carry_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY


def test_every_asset_is_local(client: FlaskClient) -> None:
    page = client.get("/product/A1").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    for asset in ("/static/style.css", "/static/favicon.svg"):
        with client.get(asset) as response:
            assert response.status_code == 200


def test_prices_follow_the_currency_setting(database_url, fake_reco, data_files) -> None:
    from vitrina_shop.db import engine_of, initialize

    from .conftest import make_app

    app = make_app(database_url, fake_reco.url, CURRENCY="GBP")
    initialize(app, data_files[0], [data_files[1]])
    assert "£499.00" in app.test_client().get("/product/A1").get_data(as_text=True)
    engine_of(app).dispose()


def test_the_error_page_renders_after_a_failed_database_write(
    app, shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sign-ups of one email at once: the second's insert breaks the unique index."""
    from vitrina_shop.views import auth

    shopper.register()
    shopper.logout()
    monkeypatch.setattr(auth, "_user_with_email", lambda _email: None)  # both saw no account
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = shopper.register()
    assert response.status_code == 500
    assert "Something broke on our side" in response.get_data(as_text=True)
