from flask import Flask
from flask.testing import FlaskClient


def test_a_guest_keeps_one_id_across_requests(client: FlaskClient) -> None:
    client.get("/product/A1")
    first = client.get_cookie("session")
    client.get("/cart/")
    with client.session_transaction() as session:
        guest = session["guest_id"]
    assert guest.startswith("guest-") and first is not None
    client.get("/product/A2")
    with client.session_transaction() as session:
        assert session["guest_id"] == guest


def test_a_session_whose_sign_in_no_longer_exists_is_dropped(
    app: Flask, client: FlaskClient
) -> None:
    with client.session_transaction() as session:
        session["sign_in"] = "a-sign-in-that-was-deleted"
    assert "Sign in" in client.get("/").get_data(as_text=True)
    with client.session_transaction() as session:
        assert "sign_in" not in session


def test_protected_pages_send_guests_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response.location == "/auth/login?next=/orders/"


def test_a_cookie_copied_before_sign_out_signs_nobody_in_after(app: Flask, shopper) -> None:
    shopper.register()
    copied = shopper.client.get_cookie("session").value
    assert shopper.client.get("/orders/").status_code == 200
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/orders/").status_code == 200  # a stolen cookie works while signed in
    shopper.logout()
    assert thief.get("/orders/").status_code == 302
    assert shopper.client.get("/orders/").status_code == 302
    shopper.login()
    assert thief.get("/orders/").status_code == 302  # a new sign-in is a new id
