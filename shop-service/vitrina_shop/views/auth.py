"""Sign-up, sign-in and sign-out."""

import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from vitrina_shop.db import get_db
from vitrina_shop.forms import LoginForm, RegisterForm
from vitrina_shop.models import User
from vitrina_shop.throttle import get_throttle
from vitrina_shop.visitor import new_id, sign_in, sign_out

bp = Blueprint("auth", __name__, url_prefix="/auth")

DUMMY_HASH = "vitrina_dummy_password_hash"
TOO_MANY = "Too many failed sign-ins. Please wait a few minutes and try again."


def _safe_next(target: str | None) -> str:
    r"""Only a path on this site: an open redirect would let a link send customers elsewhere.

    Browsers read `\` as `/` and drop tabs and newlines, so `/\evil` and `/%09/evil` would
    both become `//evil`: control characters are refused as well as backslashes.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return url_for("catalog.home")


def _user_with_email(email: str) -> User | None:
    """Find a customer by email with a plain comparison: sign-up stores emails lower-cased.

    So the column's unique index finds them; `lower(email) = …` would read every customer, those of
    the data included.
    """
    return get_db().scalar(select(User).where(User.email == email))


@bp.route("/register", methods=("GET", "POST"))
def register() -> ResponseReturnValue:
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_db()
        email = form.email.data.strip().lower()
        if not get_throttle().allows(email):
            form.email.errors.append(TOO_MANY)
            return render_template("auth/register.html", form=form), 429
        if _user_with_email(email) is not None:
            get_throttle().failed(email)  # sign-up probes for accounts count as failures
            form.email.errors.append(
                "This email cannot be used to sign up. If you have an account, sign in."
            )
        else:
            user = User(
                id=new_id("u"),
                email=email,
                name=form.name.data.strip(),
                password_hash=generate_password_hash(
                    form.password.data, method=current_app.config["PASSWORD_HASH_METHOD"]
                ),
            )
            db.add(user)
            db.flush()
            sign_in(user)
            db.commit()
            flash(f"Welcome to Vitrina, {user.name}!")
            return redirect(url_for("catalog.home"))
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


def _password_hash(user: User | None) -> str:
    """The customer's hash, or a random password's for an unknown email or a data customer.

    A customer of the data has none. The answer takes as long either way, so timing tells nobody
    which emails have accounts, and nothing matches the random password.
    """
    if user is not None and user.password_hash:
        return user.password_hash
    dummy = current_app.extensions.get(DUMMY_HASH)
    if dummy is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        dummy = generate_password_hash(secrets.token_urlsafe(16), method=method)
        current_app.extensions[DUMMY_HASH] = dummy
    return dummy


@bp.route("/login", methods=("GET", "POST"))
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        db = get_db()
        email = form.email.data.strip().lower()
        throttle = get_throttle()
        if not throttle.allows(email):
            form.password.errors.append(TOO_MANY)
            return render_template("auth/login.html", form=form), 429
        user = _user_with_email(email)
        matches = check_password_hash(_password_hash(user), form.password.data)
        if user is None or not user.password_hash or not matches:
            throttle.failed(email)
            form.password.errors.append("Wrong email or password.")
        else:
            sign_in(user)
            db.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
def logout() -> Response:
    """A POST, so the app's CSRFProtect has checked the token before we get here."""
    sign_out()
    get_db().commit()
    flash("You have signed out.")
    return redirect(url_for("catalog.home"))
