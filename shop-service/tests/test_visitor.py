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


def test_a_session_for_a_customer_who_no_longer_exists_is_dropped(
    app: Flask, client: FlaskClient
) -> None:
    with client.session_transaction() as session:
        session["user_id"] = "deleted-customer"
    assert "Sign in" in client.get("/").get_data(as_text=True)
    with client.session_transaction() as session:
        assert "user_id" not in session


def test_protected_pages_send_guests_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response.location == "/auth/login?next=/orders/"
