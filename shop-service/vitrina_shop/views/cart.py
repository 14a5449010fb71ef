"""The cart: add, change quantities, remove. Adding goes to the event log."""

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from vitrina_shared.schema import EventType
from vitrina_shop.data import carts
from vitrina_shop.data.event_log import log_event
from vitrina_shop.db import get_db
from vitrina_shop.forms import AddToCartForm, CartLineForm
from vitrina_shop.views.product import get_product
from vitrina_shop.visitor import cart_lines, visitor_id

bp = Blueprint("cart", __name__, url_prefix="/cart")


@bp.get("/")
def view() -> str:
    lines = cart_lines()
    total = sum(line.product.price100 * line.qty for line in lines)
    return render_template("cart/cart.html", lines=lines, total=total)


@bp.post("/add/<path:product_id>")
def add(product_id: str) -> Response:
    product = get_product(product_id)
    form = AddToCartForm()
    if not form.validate_on_submit():
        flash("Choose a quantity from 1 to 99.", "error")
        return redirect(url_for("product.detail", product_id=product.id))
    db = get_db()
    carts.add(db, visitor_id(), product.id, form.qty.data)
    log_event(db, visitor_id(), EventType.CART, product, form.qty.data)
    db.commit()
    flash(f"“{product.title}” is in your cart.")
    return redirect(url_for("cart.view"))


@bp.post("/set/<path:product_id>")
def set_qty(product_id: str) -> Response:
    form = CartLineForm()
    if not form.validate_on_submit():
        flash("Choose a quantity from 0 to 99.", "error")
        return redirect(url_for("cart.view"))
    db = get_db()
    if not carts.set_qty(db, visitor_id(), product_id, form.qty.data):
        flash("That product is not in your cart.", "error")
    db.commit()
    return redirect(url_for("cart.view"))
