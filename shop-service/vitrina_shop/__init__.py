"""Vitrina's storefront. `create_app` builds it; nothing connects or reads settings at import."""

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from vitrina_shop import (
    admin,
    auth,
    cart,
    catalog,
    db,
    demo,
    exposure,
    health,
    orders,
    placeholders,
    product,
    products,
    reco,
    visitor,
)
from vitrina_shop.links import image_url, product_url
from vitrina_shop.money import format_price
from vitrina_shop.placeholders import category_label
from vitrina_shop.settings import ShopSettings
from vitrina_shop.visitor import cart_ids

CATEGORIES_TTL_S = 300.0
csrf = CSRFProtect()


def _config(settings: ShopSettings) -> dict[str, Any]:
    return {
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.sqlalchemy_url,
        "RECO_URL": settings.reco_url,
        "RECO_TIMEOUT_MS": settings.reco_timeout_ms,
        "RECO_API_TOKEN": settings.reco_api_token,
        "RECO_RETRY_AFTER_S": 2.0,
        "DEMO_SWITCH": settings.demo_switch_on,
        "CURRENCY": settings.currency,
        "PAGE_SIZE": settings.page_size,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "PASSWORD_HASH_METHOD": "scrypt",
    }


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Settings come from the environment; `test_config` overrides Flask config keys."""
    app = Flask(__name__)
    settings = ShopSettings()
    app.config.from_mapping(_config(settings))
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.extensions["vitrina_settings"] = settings
    if app.config["DATABASE_URL"] == settings.sqlalchemy_url and settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)  # the default SQLite file's home

    db.init_app(app)
    reco.init_app(app)
    exposure.init_app(app, db.engine_of(app))
    csrf.init_app(app)
    _register_blueprints(app)
    _register_templating(app)
    _register_errors(app)
    app.after_request(_security_headers)
    return app


# Every asset is served by the shop itself; product images from the data may live elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: https:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _register_blueprints(app: Flask) -> None:
    for module in (catalog, product, cart, orders, auth, demo, placeholders, health, admin):
        app.register_blueprint(module.bp)
    app.before_request(visitor.load_user)


def _categories() -> list[tuple[str, int]]:
    """The navigation's categories, refreshed every few minutes rather than queried per page."""
    cached = current_app.extensions.get("vitrina_categories")
    if cached and time.monotonic() - cached[0] < CATEGORIES_TTL_S:
        return cached[1]
    found = products.categories(db.get_db())
    current_app.extensions["vitrina_categories"] = (time.monotonic(), found)
    return found


def _register_templating(app: Flask) -> None:
    app.jinja_env.filters["price"] = lambda value: format_price(value, app.config["CURRENCY"])
    app.jinja_env.filters["category_label"] = category_label
    app.jinja_env.globals.update(
        image_url=image_url,
        product_url=product_url,
        nav_categories=_categories,
        cart_count=lambda: len(cart_ids()),
    )

    @app.context_processor
    def shop_context() -> dict[str, Any]:
        return {"demo_switch": app.config["DEMO_SWITCH"], "user": g.get("user")}


def _register_errors(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_template(
            "errors/error.html", code=404, message="This page does not exist."
        ), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> tuple[str, int]:
        message = "The form has expired or did not come from this site. Please try again."
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(500)
    def server_error(_error: Exception) -> tuple[str, int]:
        db.close_db()
        return render_template(
            "errors/error.html", code=500, message="Something broke on our side."
        ), 500
