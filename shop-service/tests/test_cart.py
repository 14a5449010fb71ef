import re

import pytest
from flask.testing import FlaskClient

from .conftest import Shopper


def _lines(client: FlaskClient) -> list[tuple[str, str]]:
    page = client.get("/cart/").get_data(as_text=True)
    return re.findall(
        r'<tr data-testid="cart-line">.*?href="/product/([^"]+)".*?name="qty"[^>]*value="(\d+)"',
        page,
        re.S,
    )


def test_add_twice_adds_up_and_shows_the_total(shopper: Shopper) -> None:
    response = shopper.add_to_cart("A1", 2)
    assert response.status_code == 302 and response.location == "/cart/"
    shopper.add_to_cart("A1", 1)
    shopper.add_to_cart("C1", 1)
    assert _lines(shopper.client) == [("A1", "3"), ("C1", "1")]
    page = shopper.client.get("/cart/").get_data(as_text=True)
    assert 'data-testid="cart-total">1\u00a0617\u00a0₽<' in page  # 3 × 499 + 120
    assert 'data-testid="cart-count">2<' in page


@pytest.mark.parametrize("qty", [0, 100, -1, "two", ""])
def test_bad_quantity_is_refused(shopper: Shopper, qty: object) -> None:
    response = shopper.add_to_cart("A1", qty)
    assert response.status_code == 302 and response.location == "/product/A1"
    assert _lines(shopper.client) == []


def test_adding_an_unknown_product_is_404(shopper: Shopper) -> None:
    assert shopper.add_to_cart("NOPE").status_code == 404


def test_change_and_remove(shopper: Shopper) -> None:
    shopper.add_to_cart("A1")
    shopper.add_to_cart("B1")
    token = shopper.csrf()
    shopper.client.post("/cart/set/A1", data={"qty": 5, "csrf_token": token})
    shopper.client.post("/cart/set/B1", data={"qty": 0, "csrf_token": token})
    assert _lines(shopper.client) == [("A1", "5")]


def test_setting_a_product_not_in_the_cart_changes_nothing(shopper: Shopper) -> None:
    response = shopper.client.post("/cart/set/B1", data={"qty": 3, "csrf_token": shopper.csrf()})
    assert response.status_code == 302
    assert "That product is not in your cart." in shopper.client.get("/cart/").get_data(
        as_text=True
    )
    assert _lines(shopper.client) == []


def test_lines_keep_the_order_they_were_added_and_belong_to_one_visitor(
    app, shopper: Shopper
) -> None:
    shopper.add_to_cart("B1")
    shopper.add_to_cart("A1")
    token = shopper.csrf()
    shopper.client.post("/cart/set/B1", data={"qty": 4, "csrf_token": token})
    page = shopper.client.get("/cart/").get_data(as_text=True)
    assert _lines(shopper.client) == [("B1", "4"), ("A1", "1")]
    assert "not in your cart" not in page
    other = app.test_client()
    assert 'data-testid="cart-count">0<' in other.get("/").get_data(as_text=True)


def test_a_forged_form_without_the_token_is_rejected(shopper: Shopper) -> None:
    response = shopper.client.post("/cart/add/A1", data={"qty": 1})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    forged = shopper.client.post("/cart/add/A1", data={"qty": 1, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert _lines(shopper.client) == []


def test_the_guest_cart_follows_into_the_account(shopper: Shopper) -> None:
    shopper.register()
    shopper.logout()
    shopper.add_to_cart("B1", 2)
    shopper.login()
    assert _lines(shopper.client) == [("B1", "2")]


def test_a_line_stops_at_99_units(shopper: Shopper) -> None:
    shopper.add_to_cart("A1", 60)
    shopper.add_to_cart("A1", 60)
    assert _lines(shopper.client) == [("A1", "99")]
    shopper.add_to_cart("A1", 1)
    assert _lines(shopper.client) == [("A1", "99")]


def test_signing_in_adds_the_guest_cart_to_the_customer_s_up_to_99(shopper: Shopper) -> None:
    shopper.register()
    shopper.add_to_cart("A1", 70)
    shopper.logout()
    shopper.add_to_cart("A1", 50)
    shopper.add_to_cart("C1", 2)
    shopper.login()
    assert _lines(shopper.client) == [("A1", "99"), ("C1", "2")]
