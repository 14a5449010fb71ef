"""The sentence under each recommended product, from the reason reco-service gave it."""

import html
import re

from flask.testing import FlaskClient

from .conftest import FakeReco, Shopper

REASONS = re.compile(r'data-testid="reason">([^<]*)<')


def test_home_page_says_why_each_product_is_recommended(
    client: FlaskClient, shopper: Shopper, fake_reco: FakeReco
) -> None:
    fake_reco.answer(
        "/recommendations/u1",
        ["A2", "B1", "C1", "X9", "A1"],
        reasons=["similar_to:A1", "popular_in_category:home.lighting", "popular", "nonsense", None],
    )
    shopper.browse_as("u1")
    page = client.get("/").get_data(as_text=True)
    shelf = page.split('data-testid="recommended"')[1].split("</section>")[0]
    assert [html.unescape(s) for s in REASONS.findall(shelf)] == [
        "Similar to “Red mug”",
        "Popular in Home › Lighting",
        "Popular right now",
    ]  # unknown codes and products without a reason show nothing
    [(_, query, _)] = [r for r in fake_reco.requests if r[0] == "/recommendations/u1"]
    assert query["exclude_bought"] == ["true"]  # the discovery order


def test_session_reasons_and_escaping(
    client: FlaskClient, shopper: Shopper, fake_reco: FakeReco, app
) -> None:
    from vitrina_shop.db import session_scope
    from vitrina_shop.models import Product

    with session_scope(app) as db:
        db.get(Product, "A1").title = "<b>Red</b> mug"
        db.commit()
    fake_reco.answer(
        "/recommendations/u1",
        ["A2", "A1", "B1"],
        reasons=["viewed_today:A2", "viewed_today:A1", "similar_to:A1"],
    )
    shopper.browse_as("u1")
    page = client.get("/").get_data(as_text=True)
    assert "<b>Red</b>" not in page
    assert [html.unescape(s) for s in REASONS.findall(page)] == [
        "You viewed this today",
        "You viewed this today",
        "Similar to “<b>Red</b> mug”",
    ]


def test_bought_and_viewed_before(client: FlaskClient, shopper: Shopper, fake_reco: FakeReco):
    fake_reco.answer(
        "/recommendations/u1", ["A1", "A2", "B1"], reasons=["bought_before", "viewed_before", ""]
    )
    shopper.browse_as("u1")
    page = client.get("/").get_data(as_text=True)
    assert REASONS.findall(page) == ["You bought this before", "You looked at this before"]
