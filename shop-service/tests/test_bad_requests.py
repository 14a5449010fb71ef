"""Input PostgreSQL cannot take, refused with a 4xx before it reaches a query or a log."""

import logging

import pytest
from flask.testing import FlaskClient

from vitrina_shared.ids import MAX_ID_LENGTH

from .conftest import Shopper


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/search?q=mug%00", 400),
        ("/category/kitchen%00", 400),
        ("/product/A1%00", 400),
        (f"/product/{'A' * (MAX_ID_LENGTH + 1)}", 404),
        ("/product/A%201", 404),
        ("/orders/2147483648", 404),
        ("/orders/99999999999999999999", 404),
    ],
)
def test_bad_addresses_are_4xx_not_500(shopper: Shopper, path: str, status: int) -> None:
    shopper.browse_as("u1")
    response = shopper.client.get(path)
    assert response.status_code == status
    if status == 400:
        assert "cannot contain NUL" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_form_is_400(shopper: Shopper) -> None:
    response = shopper.client.post(
        "/auth/login",
        data={"email": "a\x00@example.com", "password": "x", "csrf_token": shopper.csrf()},
    )
    assert response.status_code == 400
    assert "cannot contain NUL" in response.get_data(as_text=True)


def test_the_longest_valid_id_is_a_product_page(client: FlaskClient, app) -> None:
    from vitrina_shop.db import session_scope
    from vitrina_shop.models import Product

    longest = "L" * MAX_ID_LENGTH
    with session_scope(app) as db:
        db.add(Product(id=longest, title="Longest", category="", price100=100))
    assert client.get(f"/product/{longest}").status_code == 200


def test_nul_bytes_never_reach_the_logs(shopper: Shopper, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for path in ("/search?q=%00", "/category/%00", "/product/%00", "/cart/add/A%00"):
        shopper.client.get(path)
    shopper.client.post("/auth/login", data={"email": "\x00", "password": "\x00"})
    assert "\x00" not in caplog.text
