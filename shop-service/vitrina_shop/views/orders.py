"""Checkout and order history. An order, its lines and its purchase events are one transaction."""

import secrets

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from vitrina_shared.schema import EventType
from vitrina_shop.data import carts, orders, products
from vitrina_shop.data.event_log import log_events
from vitrina_shop.db import get_db
from vitrina_shop.forms import MAX_QTY, CheckoutForm
from vitrina_shop.models import Order, OrderLine
from vitrina_shop.money import MAX_TOTAL100, is_valid_price100
from vitrina_shop.visitor import cart_lines, login_required

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.after_request
def _never_cached(response: Response) -> Response:
    """Orders hold names and addresses: no browser or proxy keeps a copy of these pages."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _place(db: Session, form: CheckoutForm) -> Response:
    """Turn the cart into an order, once.

    The cart's rows are taken by one delete, so a repeated or concurrent submission finds them gone
    and shows the order its twin placed.
    """
    key = form.key.data
    placed = orders.with_key(db, g.user.id, key)
    taken = [] if placed else carts.take(db, g.user.id)
    if not taken:
        placed = placed or orders.with_key(db, g.user.id, key)
        placed_id = placed.id if placed else None
        db.rollback()
        if placed_id is None:
            flash("Your cart is empty.", "error")
            return redirect(url_for("cart.view"))
        flash(f"Order №{placed_id} is placed: this form was sent before.")
        return redirect(url_for("orders.detail", order_id=placed_id))
    found = {p.id: p for p in products.by_ids(db, [product_id for product_id, _ in taken])}
    lines = [(found[product_id], qty) for product_id, qty in taken if product_id in found]
    total = sum(product.price100 * qty for product, qty in lines)
    if (
        not lines
        or total > MAX_TOTAL100
        or not all(
            is_valid_price100(product.price100) and 1 <= qty <= MAX_QTY for product, qty in lines
        )
    ):
        db.rollback()
        flash("Your cart holds a price or quantity the shop cannot take.", "error")
        return redirect(url_for("cart.view"))
    order = Order(
        user_id=g.user.id,
        total100=total,
        address=f"{form.name.data.strip()}\n{form.address.data.strip()}",
        checkout_key=key,
        lines=[
            OrderLine(
                product_id=product.id, title=product.title, price100=product.price100, qty=qty
            )
            for product, qty in lines
        ],
    )
    db.add(order)
    log_events(
        db,
        g.user.id,
        EventType.PURCHASE,
        [(product, product.price100, qty) for product, qty in lines],
    )
    db.commit()
    flash(f"Thank you! Order №{order.id} is placed.")
    return redirect(url_for("orders.detail", order_id=order.id))


@bp.route("/checkout", methods=("GET", "POST"))
@login_required
def checkout() -> ResponseReturnValue:
    form = CheckoutForm(name=g.user.name, key=secrets.token_urlsafe(24))
    if form.validate_on_submit():
        return _place(get_db(), form)
    lines = cart_lines()
    if not lines:
        flash("Your cart is empty.", "error")
        return redirect(url_for("cart.view"))
    total = sum(line.product.price100 * line.qty for line in lines)
    status = 400 if form.errors else 200
    return render_template("orders/checkout.html", form=form, lines=lines, total=total), status


@bp.get("/")
@login_required
def history() -> str:
    return render_template("orders/history.html", orders=orders.of_customer(get_db(), g.user.id))


@bp.get("/<int:order_id>")
@login_required
def detail(order_id: int) -> str:
    order = orders.owned(get_db(), g.user.id, order_id)
    if order is None:
        abort(404)
    return render_template("orders/detail.html", order=order)
