"""Who is browsing: a signed-in customer (or one chosen by the demo switch), or a guest.

Guests get a random id in the session so their cart and events hang together; signing in moves
the guest's cart to the customer and keeps the guest id in the new session, so the events
reco-service holds for it still re-rank the customer's list.
"""

import functools
import secrets
from collections.abc import Callable
from typing import Any

from flask import g, redirect, request, session, url_for
from sqlalchemy import delete

from vitrina_shop.data import carts
from vitrina_shop.db import get_db
from vitrina_shop.models import CartLine, SignIn, User


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


# Requests that render no page need no customer: no query for them.
ANONYMOUS_ENDPOINTS = frozenset({"static", "images.placeholder", "health.health", "health.ready"})


SIGN_IN_KEY = "sign_in"
GUEST_KEY = "guest_id"  # its value starts with "guest-", which no customer id does
GUEST_ACTIVE_KEY = "guest_events"


def load_user() -> None:
    """before_request.

    `g.user` is the customer of the session's sign-in, or None when it was signed out (or never
    existed): one query, the sign-in joined with its customer.
    """
    g.user = None
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return
    token = session.get(SIGN_IN_KEY)
    signed_in = get_db().get(SignIn, token) if isinstance(token, str) else None
    if signed_in is not None:
        g.user = signed_in.user
    elif token is not None:
        session.pop(SIGN_IN_KEY)


def visitor_id() -> str:
    """The id the cart and the event log use for whoever is browsing."""
    if g.get("user") is not None:
        return g.user.id
    if GUEST_KEY not in session:
        session[GUEST_KEY] = new_id("guest")
    return session[GUEST_KEY]


def events_visitor_id() -> str | None:
    """The anonymous visitor whose events of today reco-service blends into this shopper's list.

    A guest's own id once they did something reco-service was told of; after they signed in,
    the id they had as that guest (what they did before signing in is theirs too). None otherwise.
    """
    return session.get(GUEST_KEY) if session.get(GUEST_ACTIVE_KEY) else None


def note_event() -> None:
    """A guest's event was logged: their home page asks for a list of today's events from now."""
    if g.get("user") is None and GUEST_KEY in session:
        session[GUEST_ACTIVE_KEY] = True


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
    """A fresh session holding a new sign-in's id; the caller commits.

    A guest's cart moves to the customer; a guest's id with events stays in the session (read by
    `events_visitor_id`). Only a guest's: signing in as someone else carries nothing over.
    """
    db = get_db()
    guest = session.get(GUEST_KEY) if g.get("user") is None else None
    guest_events = guest is not None and session.get(GUEST_ACTIVE_KEY, False)
    sign_out()
    token = secrets.token_urlsafe(32)
    db.add(SignIn(id=token, user_id=user.id))
    session[SIGN_IN_KEY] = token
    if guest:
        carts.merge(db, guest, user.id)
    if guest_events:
        session[GUEST_KEY], session[GUEST_ACTIVE_KEY] = guest, True
    g.user = user


def sign_out() -> None:
    """Forget the session and delete its sign-in, so no copy of the cookie signs in again."""
    token = session.get(SIGN_IN_KEY)
    if isinstance(token, str):
        get_db().execute(delete(SignIn).where(SignIn.id == token))
    session.clear()
    g.user = None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(**kwargs)

    return wrapped
