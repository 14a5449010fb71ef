import re

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import event, select

from vitrina_shared.events import clean_events
from vitrina_shared.schema import Columns, ShopEventLog
from vitrina_shop.db import engine_of, session_scope
from vitrina_shop.models import Order, events
from vitrina_shop.money import MAX_PRICE100

from .conftest import FakeReco, Shopper, form_fields


def _event_log(app: Flask) -> pd.DataFrame:
    """The event table read back the way the trainer does: columns renamed to the export's."""
    with engine_of(app).connect() as conn:
        raw = pd.read_sql(select(events), conn)
    return raw.rename(columns={sql: raw_name for raw_name, sql in ShopEventLog.COLUMNS.items()})


def test_checkout_needs_a_signed_in_customer(shopper: Shopper) -> None:
    shopper.add_to_cart("A1")
    response = shopper.client.get("/orders/checkout")
    assert response.status_code == 302
    assert response.location == "/auth/login?next=/orders/checkout"


def test_empty_cart_cannot_be_ordered(shopper: Shopper) -> None:
    shopper.browse_as("u1")
    response = shopper.checkout()
    assert response.status_code == 302 and response.location == "/cart/"


def test_scripted_visit_writes_exactly_its_events_and_the_trainer_reads_them(
    app: Flask, shopper: Shopper, fake_reco: FakeReco
) -> None:
    fake_reco.answer("/recommendations/u2", ["A1", "A2"])
    shopper.browse_as("u2")
    shopper.client.get("/")  # the home page is not an event
    shopper.client.get("/product/A1")
    shopper.client.get("/product/A2")
    shopper.add_to_cart("A1", 2)
    shopper.add_to_cart("C1", 1)
    response = shopper.checkout()
    assert response.status_code == 302
    order_page = shopper.client.get(response.location).get_data(as_text=True)
    assert "Order №1" in order_page and "Red mug" in order_page and "Notebook" in order_page
    assert "1\u00a0118\u00a0₽" in order_page  # 2 × 499 + 120

    log = clean_events(_event_log(app), source="shop db")
    assert log.rows_skipped == 0
    got = log.events[
        [Columns.USER, Columns.ITEM, Columns.EVENT, Columns.PLATFORM, Columns.PRICE, Columns.QTY]
    ]
    assert got.astype(str).values.tolist() == [
        ["u2", "A1", "view_item", "Site", "49900", "1"],
        ["u2", "A2", "view_item", "Site", "59950", "1"],
        ["u2", "A1", "add_to_cart", "Site", "49900", "2"],
        ["u2", "C1", "add_to_cart", "Site", "12000", "1"],
        ["u2", "A1", "purchase", "Site", "49900", "2"],
        ["u2", "C1", "purchase", "Site", "12000", "1"],
    ]
    assert log.events[Columns.DATETIME].is_monotonic_increasing
    assert str(log.events[Columns.DATETIME].dt.tz) == "UTC"


def test_order_history_and_someone_elses_order(app: Flask, shopper: Shopper) -> None:
    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    shopper.checkout()
    history = shopper.client.get("/orders/").get_data(as_text=True)
    assert history.count('data-testid="order-row"') == 1
    assert shopper.client.get("/cart/").get_data(as_text=True).count('data-testid="cart-line"') == 0
    shopper.browse_as("u2")
    assert shopper.client.get("/orders/1").status_code == 404
    assert shopper.client.get("/orders/999").status_code == 404


def test_order_history_queries_do_not_grow_with_the_orders(app: Flask, shopper: Shopper) -> None:
    def queries_for_history() -> int:
        statements: list[str] = []

        def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
            statements.append(sql)

        event.listen(engine_of(app), "before_cursor_execute", record)
        shopper.client.get("/orders/")
        event.remove(engine_of(app), "before_cursor_execute", record)
        return len(statements)

    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    shopper.checkout()
    one = queries_for_history()
    for product_id in ("A1", "A2", "C1"):
        shopper.add_to_cart(product_id)
        shopper.checkout()
    assert queries_for_history() == one


def test_a_failed_order_writes_nothing(
    app: Flask, shopper: Shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vitrina_shop.views.orders as orders

    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    before = len(_event_log(app))

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(orders, "log_events", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert shopper.checkout().status_code == 500
    assert len(_event_log(app)) == before
    with session_scope(app) as db:
        assert db.scalars(select(Order)).all() == []


def test_checkout_validates_the_address(shopper: Shopper) -> None:
    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    response = shopper.checkout(address="")
    assert response.status_code == 400
    assert "This field is required" in response.get_data(as_text=True)


def test_order_pages_are_never_stored_by_a_cache(shopper: Shopper) -> None:
    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    checkout = shopper.client.get("/orders/checkout")
    placed = shopper.checkout()
    for response in (checkout, placed, *(shopper.client.get(p) for p in ("/orders/", "/orders/1"))):
        assert response.headers["Cache-Control"] == "no-store"


def test_an_order_keeps_each_line_s_price_and_quantity(app: Flask, shopper: Shopper) -> None:
    shopper.browse_as("u2")
    shopper.add_to_cart("A1", 3)
    shopper.add_to_cart("B1", 2)
    shopper.checkout()
    with session_scope(app) as db:
        order = db.scalars(select(Order)).one()
        lines = [(line.product_id, line.title, line.price100, line.qty) for line in order.lines]
        assert (order.user_id, order.total100) == ("u2", 3 * 49900 + 2 * 199000)
    assert lines == [("A1", "Red mug", 49900, 3), ("B1", "Desk lamp", 199000, 2)]


def test_a_second_submission_of_the_form_shows_the_first_order(
    app: Flask, shopper: Shopper
) -> None:
    shopper.browse_as("u1")
    shopper.add_to_cart("A1")
    form = form_fields(shopper.client.get("/orders/checkout").get_data(as_text=True))
    data = {**form, "name": "Ann", "address": "1 Main Street, Springfield"}
    first = shopper.client.post("/orders/checkout", data=data)
    shopper.add_to_cart("C1")  # a new cart, and the old form sent again (the back button)
    again = shopper.client.post("/orders/checkout", data=data)
    assert first.location == again.location == "/orders/1"
    assert "was sent before" in shopper.client.get(again.location).get_data(as_text=True)
    with session_scope(app) as db:
        assert len(db.scalars(select(Order)).all()) == 1
    assert _cart_ids(shopper) == ["C1"]


@pytest.mark.parametrize("price100", [MAX_PRICE100 + 1, 2**62, 0])
def test_a_price_beyond_the_range_is_not_ordered(
    app: Flask, shopper: Shopper, price100: int
) -> None:
    from vitrina_shop.models import Product

    shopper.browse_as("u1")
    shopper.add_to_cart("C1")
    shopper.add_to_cart("A1", 2)
    with session_scope(app) as db:
        db.get(Product, "A1").price100 = price100  # written around the importer's check
    response = shopper.checkout()
    assert response.status_code == 302 and response.location == "/cart/"
    message = "Your cart holds a price or quantity the shop cannot take."
    page = shopper.client.get("/cart/").get_data(as_text=True)
    assert f'<div class="flash error" role="status">{message}</div>' in page
    with session_scope(app) as db:
        assert db.scalars(select(Order)).all() == []
    assert _cart_ids(shopper) == ["C1", "A1"]  # the cart is kept


def _cart_ids(shopper: Shopper) -> list[str]:
    page = shopper.client.get("/cart/").get_data(as_text=True)
    return re.findall(r'<tr data-testid="cart-line">.*?href="/product/([^"]+)"', page, re.S)


def test_each_new_form_places_a_new_order_and_keys_belong_to_their_customer(
    app: Flask, shopper: Shopper
) -> None:
    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    shopper.add_to_cart("A1", 99)  # the most a line holds is orderable
    first = shopper.checkout()
    shopper.add_to_cart("C1")
    second = shopper.checkout()
    assert (first.location, second.location) == ("/orders/1", "/orders/2")
    page = shopper.client.get("/orders/2").get_data(as_text=True)
    assert '<div class="flash message" role="status">Thank you! Order №2 is placed.</div>' in page
    shopper.browse_as("u2")
    shopper.add_to_cart("A2")
    form = form_fields(shopper.client.get("/orders/checkout").get_data(as_text=True))
    with session_scope(app) as db:
        u1_key = db.get(Order, 1).checkout_key
    data = {**form, "key": u1_key, "name": "Bo", "address": "2 Side Street, Springfield"}
    assert shopper.client.post("/orders/checkout", data=data).location == "/orders/3"
    with session_scope(app) as db:
        owners = [
            (o.id, o.user_id, [line.product_id for line in o.lines])
            for o in db.scalars(select(Order).order_by(Order.id))
        ]
    assert owners == [(1, "u1", ["B1", "A1"]), (2, "u1", ["C1"]), (3, "u2", ["A2"])]


def test_checking_out_an_empty_cart_says_so(shopper: Shopper) -> None:
    shopper.browse_as("u1")
    form = {"csrf_token": shopper.csrf(), "key": "k", "name": "Ann", "address": "1 Main Street"}
    response = shopper.client.post("/orders/checkout", data=form)
    assert response.location == "/cart/"
    page = shopper.client.get("/cart/").get_data(as_text=True)
    assert '<div class="flash error" role="status">Your cart is empty.</div>' in page
