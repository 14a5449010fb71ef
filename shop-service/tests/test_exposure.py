import logging
import re
import time
from datetime import UTC, datetime

import orjson
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vitrina_shop.db import create_tables, engine_of, initialize, make_engine, session_scope
from vitrina_shop.exposure import ExposureLog
from vitrina_shop.models import Impression, Order, RecoClick

from .conftest import Shopper, close_app, make_app

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


def test_a_broken_log_loses_no_page_and_no_order(app, fake_reco, shopper, caplog):
    fake_reco.answer("/recommendations/u1", ["A2", "B1"])
    shopper.browse_as("u1")
    assert shopper.client.get("/").status_code == 200
    _flush(app)  # written: the log's tables were there
    with engine_of(app).begin() as conn:
        conn.execute(text("DROP TABLE impressions"))
    assert shopper.client.get("/").status_code == 200
    shopper.add_to_cart("A2")
    assert shopper.checkout().status_code == 302
    _flush(app)
    assert app.extensions["vitrina_exposure"].failed_rows >= 1
    assert "exposure log" in caplog.text and "impressions" in caplog.text
    with session_scope(app) as db:
        assert db.scalar(select(Order.total100)) == 59950


def _impression_row(name: str) -> dict:
    return {
        "id": name,
        "request_id": "r1",
        "visitor_id": "u1",
        "block": "popular",
        "items": '["A1"]',
        "source": "popular",
        "created_at": datetime.now(UTC),
    }


def test_rows_shown_before_the_tables_exist_wait_for_them_quietly(database_url, caplog):
    """The start-up order: rows logged before `vitrina-shop init` are written once it ran."""
    engine = make_engine(database_url)
    log = ExposureLog(engine, flush_interval_s=0.05)
    with caplog.at_level(logging.INFO, logger="vitrina_shop.exposure"):
        log.add(Impression.__table__, _impression_row("before-init"))
        time.sleep(0.3)  # several rounds of the writer
        create_tables(engine)
        log.add(Impression.__table__, _impression_row("after-init"))
        log.flush()
    with engine.connect() as connection:
        written = connection.scalars(select(Impression.id).order_by(Impression.id)).all()
    engine.dispose()
    assert written == ["after-init", "before-init"]
    assert log.failed_rows == 0
    # Only the log's own records: another test's app may still be reporting in the background.
    assert [r for r in caplog.records if r.name == "vitrina_shop.exposure"] == []


def test_the_log_stores_each_value_as_the_orm_would(database_url):
    """Its one-statement JSON insert: same text, numbers, NULLs and dates, so reports compare."""
    engine = make_engine(database_url)
    create_tables(engine)
    at = datetime(2026, 12, 2, 3, 4, 5, 60, tzinfo=UTC)
    impression = {
        "request_id": "r1",
        "visitor_id": "u'1\"é",
        "block": "recommended",
        "items": '["A1","B2"]',
        "source": "personal",
        "model_version": None,
        "experiment": "exp",
        "variant": None,
        "created_at": at,
    }
    click = {"impression_id": "i", "position": 3, "visitor_id": "u1", "product_id": "A1"}
    log = ExposureLog(engine, flush_interval_s=0.05)
    log.add(Impression.__table__, {"id": "log", **impression})
    log.add(RecoClick.__table__, {**click, "created_at": at})
    log.flush()
    with Session(engine) as db, db.begin():
        db.add(Impression(id="orm", **impression))
        db.add(RecoClick(**click, created_at=at))
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT * FROM impressions ORDER BY id")).all()
        clicks = connection.execute(text("SELECT * FROM reco_clicks ORDER BY id")).all()
        later = connection.scalars(select(Impression.id).where(Impression.created_at > at)).all()
    engine.dispose()
    assert log.failed_rows == 0
    assert [row[1:] for row in stored[:1]] == [row[1:] for row in stored[1:]]  # all but the id
    assert [row[1:] for row in clicks[:1]] == [row[1:] for row in clicks[1:]]
    assert later == []


def test_only_the_log_commits_without_waiting_for_the_disk(database_url):
    app = make_app(database_url, "http://127.0.0.1:9")
    shop_engine, log_engine = engine_of(app), app.extensions["vitrina_exposure"].engine
    sqlite = database_url.startswith("sqlite")
    query = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"
    waits = {}
    for name, engine in (("shop", shop_engine), ("log", log_engine)):
        with engine.connect() as connection:
            waits[name] = str(connection.exec_driver_sql(query).scalar())
    close_app(app)
    # FULL / on for orders and carts; NORMAL / off for the log
    assert waits == ({"shop": "2", "log": "1"} if sqlite else {"shop": "on", "log": "off"})


def test_the_log_writes_while_every_connection_of_the_pages_is_taken(database_url):
    """The writer has a connection of its own.

    It never waits for one a page holds, nor takes one a page waits for.
    """
    app = make_app(database_url, "http://127.0.0.1:9", DB_CONNECTIONS=1)
    create_tables(engine_of(app))
    log = app.extensions["vitrina_exposure"]
    with engine_of(app).connect() as held:  # the pages' only connection, as a busy page holds it
        held.exec_driver_sql("SELECT 1")
        log.add(Impression.__table__, _impression_row("while-busy"))
        log.flush()
    with session_scope(app) as db:
        written = db.scalars(select(Impression.id)).all()
    close_app(app)
    assert written == ["while-busy"]
    assert log.failed_rows == 0


def test_the_log_can_be_turned_off(database_url, fake_reco, data_files):
    app = make_app(database_url, fake_reco.url, EXPOSURE_LOG=False)
    initialize(app, data_files[0], [data_files[1]])
    fake_reco.answer("/recommendations/u1", ["A2", "B1"])
    client = app.test_client()
    Shopper(client).browse_as("u1")
    page = client.get("/").get_data(as_text=True)
    assert 'data-source="personal"' in page and 'href="/product/A2"' in page  # no `?r=`
    _flush(app)
    assert _impressions(app) == {}
    close_app(app)
