import re

import orjson
from sqlalchemy import select, text

from vitrina_shop.db import engine_of, session_scope
from vitrina_shop.models import Impression, Order, RecoClick

LINK = re.compile(r'data-testid="recommended".*?href="(/product/A2\?r=[^"]+)"', re.S)


def _flush(app):
    app.extensions["vitrina_exposure"].flush()


def _impressions(app):
    with session_scope(app) as db:
        return {i.block: i for i in db.scalars(select(Impression))}


def test_every_block_on_a_page_is_one_impression(app, fake_reco, shopper):
    fake_reco.answer("/recommendations/u1", ["A2", "B1"])
    fake_reco.answer("/popular", ["B1", "A1"], source="popular")
    shopper.browse_as("u1")
    shopper.client.get("/")
    _flush(app)
    shown = _impressions(app)
    assert set(shown) == {"recommended", "popular"}
    personal = shown["recommended"]
    assert (personal.visitor_id, personal.source, personal.model_version) == (
        "u1",
        "personal",
        "v-test",
    )
    assert orjson.loads(personal.items) == ["A2", "B1"]
    assert personal.request_id == shown["popular"].request_id  # one page, one request id
    assert personal.experiment is None


def test_a_click_in_a_block_is_attributed_to_its_impression_and_position(app, fake_reco, shopper):
    fake_reco.answer("/recommendations/u1", ["B1", "A2"])
    shopper.browse_as("u1")
    link = LINK.search(shopper.client.get("/").get_data(as_text=True)).group(1)
    assert shopper.client.get(link).status_code == 200
    shopper.client.get("/product/A2")  # an ordinary visit: no click
    shopper.client.get(link.replace("/A2?", "/B1?"))  # a reference signed for another product
    _flush(app)
    with session_scope(app) as db:
        clicks = list(db.scalars(select(RecoClick)))
    assert [(c.impression_id, c.position, c.product_id, c.visitor_id) for c in clicks] == [
        (_impressions(app)["recommended"].id, 1, "A2", "u1")
    ]


def test_a_broken_log_loses_no_page_and_no_order(app, fake_reco, shopper):
    with engine_of(app).begin() as conn:
        conn.execute(text("DROP TABLE impressions"))
    fake_reco.answer("/recommendations/u1", ["A2", "B1"])
    shopper.browse_as("u1")
    assert shopper.client.get("/").status_code == 200
    shopper.add_to_cart("A2")
    assert shopper.checkout().status_code == 302
    _flush(app)
    assert app.extensions["vitrina_exposure"].failed_rows >= 1
    with session_scope(app) as db:
        assert db.scalar(select(Order.total100)) == 59950
