"""The demo switch.

Browse as any customer of the data, to see the personal recommendations of real histories. Off when
`SHOP_DEMO_SWITCH=false` (and by default in production).
"""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from vitrina_shop.db import get_db
from vitrina_shop.forms import DemoSwitchForm
from vitrina_shop.models import User
from vitrina_shop.visitor import sign_in

bp = Blueprint("demo", __name__, url_prefix="/demo")

LISTED = 30


@bp.before_request
def switch_enabled() -> None:
    if not current_app.config["DEMO_SWITCH"]:
        abort(404)


@bp.route("/", methods=("GET", "POST"))
def customers() -> ResponseReturnValue:
    db = get_db()
    form = DemoSwitchForm(user_id=request.args.get("user_id", ""))
    if form.validate_on_submit():
        user = db.get(User, form.user_id.data.strip())
        if user is None or not user.from_data:
            form.user_id.errors.append("No customer of the data has this id.")
        else:
            sign_in(user)
            db.commit()
            flash(f"You are browsing as {user.name}.")
            return redirect(url_for("catalog.home"))
    listed = db.scalars(
        select(User).where(User.from_data).order_by(User.event_count.desc(), User.id).limit(LISTED)
    )
    status = 400 if form.errors else 200
    return render_template("demo/customers.html", form=form, customers=list(listed)), status
