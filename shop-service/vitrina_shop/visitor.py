"""Who is browsing: a signed-in customer (or one chosen by the demo switch), or a guest.

Guests get a random id in the session so their cart and events hang together; signing in moves
the guest's cart to the customer.
"""

import functools
import secrets
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for

from vitrina_shop import carts
from vitrina_shop.db import get_db
from vitrina_shop.models import CartLine, User


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


# Requests that render no page need no customer: no query for them.
ANONYMOUS_ENDPOINTS = frozenset({"static", "images.placeholder", "health.health"})


def load_user() -> None:
    """before_request: `g.user` is the signed-in customer or None."""
    g.user = None
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return
    user_id = session.get("user_id")
    g.user = get_db().get(User, user_id) if user_id else None
    if user_id and g.user is None:
        session.pop("user_id")


def visitor_id() -> str:
    """The id the cart and the event log use for whoever is browsing."""
    if g.get("user") is not None:
        return g.user.id
    if "guest_id" not in session:
        session["guest_id"] = new_id("guest")
    return session["guest_id"]


def cart_ids() -> list[str]:
    """What is in the visitor's cart, read once per request (the page and its header need it)."""
    if "cart_ids" not in g:
        g.cart_ids = carts.item_ids(get_db(), visitor_id())
    return g.cart_ids


def cart_lines() -> list[CartLine]:
    """The visitor's cart for a page that lists it; the header's count comes from the same rows."""
    lines = carts.lines(get_db(), visitor_id())
    g.cart_ids = [line.product_id for line in lines]
    return lines


def sign_in(user: User) -> None:
    guest = session.get("guest_id")
    session.clear()
    session["user_id"] = user.id
    if guest:
        carts.merge(get_db(), guest, user.id)
    g.user = user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    return wrapped
