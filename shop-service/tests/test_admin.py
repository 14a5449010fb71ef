import io
import sys

import pytest
from sqlalchemy import select

from vitrina_shared.model_store import ModelStore
from vitrina_shop import commands
from vitrina_shop.db import session_scope
from vitrina_shop.models import Admin, Experiment, User

ADMIN_URLS = [
    ("get", "/admin/"),
    ("get", "/admin/experiments/ab"),
    ("post", "/admin/experiments"),
    ("post", "/admin/experiments/ab/stop"),
    ("post", "/admin/models/v1/activate"),
    ("post", "/admin/models/rollback"),
]


@pytest.fixture(autouse=True)
def private_redis(app, redis_url):
    """The dashboard and the pins talk to the test's own Redis, never one on the default port."""
    settings = app.extensions["vitrina_settings"]
    app.extensions["vitrina_settings"] = settings.model_copy(update={"redis_url": redis_url})


def make_admin(app, monkeypatch, email="boss@example.com", password="correct-horse"):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    args = commands.argparse.Namespace(
        command="create-admin", email=email, name="Boss", password_stdin=True
    )
    assert commands.run(app, args) == 0


@pytest.mark.parametrize(("method", "url"), ADMIN_URLS)
def test_a_customer_never_reaches_admin(app, shopper, method, url):
    for who in (None, "register"):
        if who:
            shopper.register()
        token = shopper.csrf()
        response = getattr(shopper.client, method)(url, data={"csrf_token": token})
        assert response.status_code == 404


def test_create_admin_makes_an_account_with_the_role(app, monkeypatch):
    make_admin(app, monkeypatch)
    make_admin(app, monkeypatch)  # again: the same account, still one role
    with session_scope(app) as db:
        user = db.scalar(select(User).where(User.email == "boss@example.com"))
        assert db.scalars(select(Admin.user_id)).all() == [user.id]


def test_create_admin_refuses_a_short_password(app, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    args = commands.argparse.Namespace(
        command="create-admin", email="x@example.com", name="X", password_stdin=True
    )
    assert commands.run(app, args) == 2
    assert "8 to 128 characters" in capsys.readouterr().err


def publish(redis_client, version):
    store = ModelStore(redis_client)
    writer = store.begin(version)
    writer.write_meta({"trained_at": "2024-01-01T00:00:00+00:00", "metrics": {"ndcg@10": 0.25}})
    store.activate(version)


def test_an_admin_sees_the_model_versions_and_switches_them(
    app, shopper, monkeypatch, redis_client
):
    publish(redis_client, "v1")
    publish(redis_client, "v2")
    make_admin(app, monkeypatch)
    shopper.login("boss@example.com")
    page = shopper.client.get("/admin/").get_data(as_text=True)
    assert "v2 <strong>(active)</strong>" in page and "ndcg@10 0.2500" in page
    token = shopper.csrf("/admin/")
    assert (
        shopper.client.post("/admin/models/rollback", data={"csrf_token": token}).status_code == 302
    )
    assert redis_client.get("vitrina:active") == b"v1"
    shopper.client.post("/admin/models/v2/activate", data={"csrf_token": token})
    assert redis_client.get("vitrina:active") == b"v2"
    shopper.client.post("/admin/models/v9/activate", data={"csrf_token": token})
    assert "Not activated" in shopper.client.get("/admin/").get_data(as_text=True)


def test_an_admin_starts_an_experiment_and_sees_its_kpis(app, shopper, monkeypatch):
    make_admin(app, monkeypatch)
    shopper.login("boss@example.com")
    page = shopper.client.get("/admin/").get_data(as_text=True)
    assert 'data-testid="admin-models"' in page and 'data-testid="admin-health"' in page
    form = {
        "name": "ab",
        "csrf_token": shopper.csrf("/admin/"),
        **{
            f"{field}{i}": value
            for i, (name, strategy) in enumerate([("control", "control"), ("personal", "active")])
            for field, value in (
                ("name", name),
                ("strategy", strategy),
                ("share", "50"),
                ("k", "8"),
            )
        },
    }
    assert shopper.client.post("/admin/experiments", data=form).status_code == 302
    page = shopper.client.get("/admin/experiments/ab").get_data(as_text=True)
    assert 'data-testid="kpi-table"' in page
    assert 'data-testid="visitors-control"' in page
    without_token = shopper.client.post("/admin/experiments/ab/stop")
    assert without_token.status_code == 400  # CSRF
    stopped = shopper.client.post(
        "/admin/experiments/ab/stop", data={"csrf_token": shopper.csrf("/admin/")}
    )
    assert stopped.status_code == 302
    with session_scope(app) as db:
        assert db.scalar(select(Experiment.running)) is False
