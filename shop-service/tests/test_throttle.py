"""Failed sign-ins are throttled per account and per address, shared through Redis."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from vitrina_shop.db import engine_of, initialize

from .conftest import FakeReco, Shopper, make_app


@pytest.fixture
def small_limits(
    database_url: str, fake_reco: FakeReco, data_files: tuple[Path, Path]
) -> Iterator[Flask]:
    app = make_app(
        database_url,
        fake_reco.url,
        THROTTLE_PER_ACCOUNT="3/minute",
        THROTTLE_PER_ADDRESS="5/minute",
    )
    initialize(app, *data_files[:1], [data_files[1]])
    yield app
    app.extensions["vitrina_reco"].close()
    engine_of(app).dispose()


def test_an_account_is_locked_after_its_failed_sign_ins(small_limits: Flask) -> None:
    shopper = Shopper(small_limits.test_client())
    shopper.register()
    shopper.logout()
    assert [shopper.login(password="wrong-horse").status_code for _ in range(4)] == [
        400,
        400,
        400,
        429,
    ]
    locked = shopper.login()  # even the right password waits: the guesser cannot tell
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)


def test_an_address_is_locked_after_failures_on_many_accounts(small_limits: Flask) -> None:
    shopper = Shopper(small_limits.test_client())
    codes = [shopper.login(email=f"guess{n}@example.com").status_code for n in range(6)]
    assert codes == [400] * 5 + [429]


def test_each_address_has_its_own_count(small_limits: Flask) -> None:
    guesser = Shopper(small_limits.test_client())
    guesser.client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    assert [guesser.login(email=f"g{n}@example.com").status_code for n in range(6)][-1] == 429
    other = Shopper(small_limits.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    assert other.login(email="someone@example.com").status_code == 400


def test_a_right_password_is_never_counted(small_limits: Flask) -> None:
    shopper = Shopper(small_limits.test_client())
    shopper.register()
    for _ in range(6):
        shopper.logout()
        assert shopper.login().status_code == 302


def test_the_count_is_shared_through_redis(
    database_url: str, fake_reco: FakeReco, data_files: tuple[Path, Path], redis_url: str
) -> None:
    """Two apps are two workers (or replicas): failures at one count at the other."""
    apps = [
        make_app(
            database_url,
            fake_reco.url,
            THROTTLE_STORAGE_URL=redis_url,
            THROTTLE_PER_ACCOUNT="3/minute",
        )
        for _ in range(2)
    ]
    initialize(apps[0], data_files[0], [data_files[1]])
    first, second = (Shopper(app.test_client()) for app in apps)
    first.register()
    first.logout()
    assert [first.login(password="wrong").status_code for _ in range(2)] == [400, 400]
    assert second.login(password="wrong").status_code == 400
    assert second.login().status_code == 429
    for app in apps:
        app.extensions["vitrina_reco"].close()
        engine_of(app).dispose()


def test_a_dead_limit_store_lets_sign_in_work(
    database_url: str,
    fake_reco: FakeReco,
    data_files: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(database_url, fake_reco.url, THROTTLE_STORAGE_URL="redis://127.0.0.1:9/0")
    initialize(app, data_files[0], [data_files[1]])
    shopper = Shopper(app.test_client())
    shopper.register()
    shopper.logout()
    assert shopper.login(password="wrong-horse").status_code == 400
    assert shopper.login().status_code == 302
    said = [r.getMessage() for r in caplog.records if r.name == "vitrina_shop.throttle"]
    assert len(said) == 4  # the checks of sign-up and two sign-ins, the one failure counted
    for message in said:
        assert message.startswith("sign-in throttling is off: its store fails (")
        assert "Error" in message and "%s" not in message
    app.extensions["vitrina_reco"].close()
    engine_of(app).dispose()
