import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from vitrina_shop.db import session_scope
from vitrina_shop.models import events

from .conftest import FakeReco


def test_product_page_shows_price_cart_form_and_similar(
    client: FlaskClient, fake_reco: FakeReco
) -> None:
    fake_reco.answer("/similar/A1", ["A1", "A2", "B1"], source="similar")
    page = client.get("/product/A1").get_data(as_text=True)
    assert "<h1>Red mug</h1>" in page
    assert 'data-testid="price">499\u00a0₽<' in page
    assert 'action="/cart/add/A1"' in page and 'name="csrf_token"' in page
    similar = page.split('data-testid="similar"', 1)[1]
    assert 'data-source="similar"' in similar
    assert re.findall(r'href="/product/([^"?]+)[^"]*"', similar) == ["A2", "B1"]  # never itself


def test_similar_falls_back_to_the_category(client: FlaskClient) -> None:
    page = client.get("/product/A1").get_data(as_text=True)  # the fake has no /similar/A1
    similar = page.split('data-testid="similar"', 1)[1]
    assert 'data-source="shop-popular"' in similar
    assert re.findall(r'href="/product/([^"?]+)[^"]*"', similar) == ["A2"]


@pytest.mark.parametrize("product_id", ["NOPE", "x" * 65, "A1/../B1"])
def test_unknown_product_is_404(client: FlaskClient, product_id: str) -> None:
    assert client.get(f"/product/{product_id}").status_code == 404


def test_a_view_is_logged_for_the_guest(app: Flask, client: FlaskClient) -> None:
    client.get("/product/B1")
    with session_scope(app) as db:
        rows = db.execute(select(events.c.user_id, events.c.event_type, events.c.nm)).all()
    assert len(rows) == 1
    user_id, event_type, nm = rows[0]
    assert (event_type, nm) == ("view_item", "B1")
    assert user_id.startswith("guest-")
