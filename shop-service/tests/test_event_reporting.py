"""Every logged event also goes to reco-service's POST /events, and no page waits for it."""

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from vitrina_shared.redis_server import free_port
from vitrina_shop.db import initialize

from .conftest import FakeReco, Shopper, close_app, make_app


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the reporter did not get there in time")
        time.sleep(0.02)


def _events(fake: FakeReco) -> list[dict]:
    return [event for body in fake.posted for event in body["events"]]


def test_views_carts_and_purchases_are_reported(
    app: Flask, shopper: Shopper, fake_reco: FakeReco
) -> None:
    shopper.client.get("/product/A2")  # a guest
    _wait_for(lambda: len(_events(fake_reco)) == 1)
    [guest_view] = _events(fake_reco)
    assert guest_view["visitor_id"].startswith("guest-") and "user_id" not in guest_view
    assert (guest_view["item_id"], guest_view["event_type"]) == ("A2", "view_item")

    shopper.register()
    shopper.add_to_cart("B1", 2)
    shopper.checkout()
    _wait_for(lambda: len(_events(fake_reco)) == 3)
    later = _events(fake_reco)[1:]
    assert [(e["item_id"], e["event_type"]) for e in later] == [
        ("B1", "add_to_cart"),
        ("B1", "purchase"),
    ]
    assert all(e["user_id"].startswith("u-") and "visitor_id" not in e for e in later)
    assert all(e["time"].endswith("+00:00") for e in _events(fake_reco))


def test_a_hung_reco_service_does_not_slow_a_page(
    app: Flask, client: FlaskClient, fake_reco: FakeReco
) -> None:
    fake_reco.events_delay_s = 30.0  # POST /events hangs past the shop's timeout
    for product_id in ("C1", "A1", "B1"):
        assert client.get(f"/product/{product_id}").status_code == 200
    reporter = app.extensions["vitrina_events"]
    assert fake_reco.posted == [] and reporter.sent == 0  # every page returned, the POST hangs
    _wait_for(lambda: reporter.dropped >= 1, timeout=20)  # dropped after the client's timeout


def test_a_down_reco_service_drops_and_counts(database_url: str, data_files) -> None:
    app = make_app(database_url, f"http://127.0.0.1:{free_port()}")
    initialize(app, data_files[0], [data_files[1]])
    client = app.test_client()
    assert client.get("/product/C1").status_code == 200
    assert client.get("/product/A1").status_code == 200
    reporter = app.extensions["vitrina_events"]
    _wait_for(lambda: reporter.dropped == 2)
    assert reporter.sent == 0
    close_app(app)


def test_a_purchase_whose_order_is_rolled_back_is_never_reported(
    app: Flask, shopper: Shopper, fake_reco: FakeReco, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vitrina_shop.views.orders as orders

    log_events = orders.log_events

    def then_fail(*args: object) -> None:  # the purchase rows are written, the commit never comes
        log_events(*args)
        raise RuntimeError("disk full")

    shopper.browse_as("u1")
    shopper.add_to_cart("B1")
    monkeypatch.setattr(orders, "log_events", then_fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert shopper.checkout().status_code == 500
    shopper.client.get("/product/C1")  # queued after anything the checkout queued
    _wait_for(
        lambda: ("C1", "view_item") in [(e["item_id"], e["event_type"]) for e in _events(fake_reco)]
    )
    assert [e["event_type"] for e in _events(fake_reco)] == ["add_to_cart", "view_item"]
