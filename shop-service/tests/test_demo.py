import re

from flask import Flask

from vitrina_shop.db import engine_of, initialize

from .conftest import FakeReco, Shopper, make_app

BIG_ID = "340282366920938463463374607431768211455"


def test_lists_customers_by_activity_and_switches(shopper: Shopper) -> None:
    page = shopper.client.get("/demo/").get_data(as_text=True)
    listed = re.findall(r'<tr data-testid="demo-customer">\s*<td>([^<]+)</td>', page)
    assert listed == [BIG_ID, "u1", "u2"]  # two events each: ties in id order
    response = shopper.browse_as(BIG_ID)
    assert response.status_code == 302
    assert f"Customer {BIG_ID}" in shopper.client.get("/").get_data(as_text=True)


def test_unknown_or_signed_up_customers_cannot_be_switched_to(shopper: Shopper) -> None:
    assert shopper.browse_as("nobody").status_code == 400
    shopper.register()
    shopper.logout()
    from vitrina_shop.db import session_scope
    from vitrina_shop.models import User

    with session_scope(shopper.client.application) as db:
        ann = db.query(User).filter_by(email="ann@example.com").one()
    assert shopper.browse_as(ann.id).status_code == 400


def test_switch_off_means_404(database_url: str, fake_reco: FakeReco, data_files) -> None:
    app: Flask = make_app(database_url, fake_reco.url, DEMO_SWITCH=False)
    initialize(app, data_files[0], [data_files[1]])
    client = app.test_client()
    assert client.get("/demo/").status_code == 404
    assert "Browse as" not in client.get("/").get_data(as_text=True)
    engine_of(app).dispose()
