import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.security import check_password_hash

from vitrina_shop.db import session_scope
from vitrina_shop.models import User

from .conftest import Shopper


def test_register_hashes_the_password_and_signs_in(app: Flask, shopper: Shopper) -> None:
    response = shopper.register()
    assert response.status_code == 302 and response.location == "/"
    with session_scope(app) as db:
        user = db.scalar(select(User).where(User.email == "ann@example.com"))
    assert user.id.startswith("u-") and not user.from_data
    assert user.password_hash != "correct-horse"
    assert check_password_hash(user.password_hash, "correct-horse")
    assert "Ann" in shopper.client.get("/").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(shopper: Shopper) -> None:
    shopper.register()
    cookie = shopper.client.get_cookie("session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Not an email"),
        ("password", "short", "between 8 and 128"),
        ("confirm", "different-one", "Passwords differ"),
    ],
)
def test_register_validates(shopper: Shopper, field: str, value: str, message: str) -> None:
    data = {
        "name": "Ann",
        "email": "ann@example.com",
        "password": "correct-horse",
        "confirm": "correct-horse",
        "csrf_token": shopper.csrf("/auth/register"),
    }
    data[field] = value
    response = shopper.client.post("/auth/register", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_same_email_cannot_register_twice(shopper: Shopper) -> None:
    shopper.register()
    shopper.logout()
    response = shopper.register(email="ANN@example.com")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "cannot be used to sign up" in page and "exists" not in page


def test_login_with_a_wrong_password_fails(shopper: Shopper) -> None:
    shopper.register()
    shopper.logout()
    response = shopper.login(password="wrong-horse")
    assert response.status_code == 400
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_data_customers_have_no_password_to_guess(shopper: Shopper) -> None:
    assert shopper.login(email="u1", password="anything").status_code == 400


@pytest.mark.parametrize("password", ["", "anything", "None"])
def test_an_account_without_a_password_cannot_sign_in(
    app: Flask, shopper: Shopper, password: str
) -> None:
    """A customer with an email but no password: no password matches, and the answer is a 400.

    Such a customer is one of the data given an email; the answer is the usual 400, not a 500.
    """
    with session_scope(app) as db:
        db.get(User, "u1").email = "u1@example.com"
    data = {"email": "u1@example.com", "password": password, "csrf_token": shopper.csrf()}
    response = shopper.client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert "Sign in" in shopper.client.get("/").get_data(as_text=True)


def test_an_unknown_email_costs_a_password_hash_too(
    shopper: Shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing must not tell which emails have accounts.

    An unknown one is checked against a hash as well (timing itself belongs in a benchmark, not a
    test).
    """
    import vitrina_shop.views.auth as auth

    checked: list[str] = []

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return check_password_hash(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", spy)
    shopper.register()
    shopper.logout()
    assert shopper.login(email="nobody@example.com").status_code == 400
    assert shopper.login(email="nobody-else@example.com").status_code == 400
    assert shopper.login(password="wrong-horse").status_code == 400
    assert len(checked) == 3 and checked[0].split("$")[0] == checked[2].split("$")[0]
    assert checked[0] == checked[1]  # one dummy hash, made once per app


def test_login_returns_to_next_but_never_to_another_site(shopper: Shopper) -> None:
    shopper.register()
    shopper.logout()
    token = shopper.csrf()
    data = {"email": "ann@example.com", "password": "correct-horse", "csrf_token": token}
    assert shopper.client.post("/auth/login?next=/orders/", data=data).location == "/orders/"
    shopper.logout()
    data["csrf_token"] = shopper.csrf()
    assert shopper.client.post("/auth/login?next=//evil.example", data=data).location == "/"
    # Browsers drop tab and newline and read a backslash as a slash: all would be //evil.
    for smuggled in ("/%09/evil.example", "/%0A/evil.example", "/\\evil.example", "/%5Cevil"):
        shopper.logout()
        data["csrf_token"] = shopper.csrf()
        assert shopper.client.post(f"/auth/login?next={smuggled}", data=data).location == "/"


def test_logout_needs_the_token(shopper: Shopper) -> None:
    shopper.register()
    assert shopper.client.post("/auth/logout").status_code == 400
    assert shopper.client.get("/auth/logout").status_code == 405
    shopper.logout()
    assert "Sign in" in shopper.client.get("/").get_data(as_text=True)


def test_a_forged_login_form_is_rejected(shopper: Shopper) -> None:
    """Right credentials, no token: a wrong password is a 400 too, so the message must say CSRF."""
    shopper.register()
    shopper.logout()
    data = {"email": "ann@example.com", "password": "correct-horse"}
    response = shopper.client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert "Sign in" in shopper.client.get("/").get_data(as_text=True)
