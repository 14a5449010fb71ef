"""Checkout and order history. An order, its lines and its purchase events are one transaction."""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from vitrina_shared.schema import EventType
from vitrina_shop import carts
from vitrina_shop.db import get_db
from vitrina_shop.event_log import log_events
from vitrina_shop.forms import CheckoutForm
from vitrina_shop.models import Order, OrderLine
from vitrina_shop.visitor import cart_lines, login_required

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.route("/checkout", methods=("GET", "POST"))
@login_required
def checkout() -> ResponseReturnValue:
    db = get_db()
    lines = cart_lines()
    if not lines:
        flash("Your cart is empty.", "error")
        return redirect(url_for("cart.view"))
    total = sum(line.product.price100 * line.qty for line in lines)
    form = CheckoutForm(name=g.user.name)
    if form.validate_on_submit():
        order = Order(
            user_id=g.user.id,
            total100=total,
            address=f"{form.name.data.strip()}\n{form.address.data.strip()}",
            lines=[
                OrderLine(
                    product_id=line.product.id,
                    title=line.product.title,
                    price100=line.product.price100,
                    qty=line.qty,
                )
                for line in lines
            ],
        )
        db.add(order)
        log_events(
            db,
            g.user.id,
            EventType.PURCHASE,
            [(line.product, line.product.price100, line.qty) for line in lines],
        )
        carts.clear(db, g.user.id)
        db.commit()
        flash(f"Thank you! Order №{order.id} is placed.")
        return redirect(url_for("orders.detail", order_id=order.id))
    status = 400 if form.errors else 200
    return render_template("orders/checkout.html", form=form, lines=lines, total=total), status


@bp.get("/")
@login_required
def history() -> str:
    orders = get_db().scalars(
        select(Order)
        .where(Order.user_id == g.user.id)
        .order_by(Order.created_at.desc())
        .options(selectinload(Order.lines))  # the page counts each order's lines
    )
    return render_template("orders/history.html", orders=list(orders))


@bp.get("/<int:order_id>")
@login_required
def detail(order_id: int) -> str:
    order = get_db().get(Order, order_id)
    if order is None or order.user_id != g.user.id:
        abort(404)
    return render_template("orders/detail.html", order=order)
