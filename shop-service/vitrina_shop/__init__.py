"""Vitrina's storefront. `create_app` builds it; nothing connects or reads settings at import."""

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, abort, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from vitrina_shop import db, event_reporter, exposure, reco_client, throttle, visitor
from vitrina_shop.cache import remembered
from vitrina_shop.data import products
from vitrina_shop.links import image_url, product_url
from vitrina_shop.money import format_price
from vitrina_shop.settings import ShopSettings
from vitrina_shop.views import admin, auth, cart, catalog, demo, health, images, orders, product
from vitrina_shop.views.images import category_label
from vitrina_shop.visitor import cart_ids

CATEGORIES_CACHE = "vitrina_categories"
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
        "DB_STATEMENT_TIMEOUT_S": db.STATEMENT_TIMEOUT_S,
        "DB_REST_S": db.REST_S,
        "DB_CONNECTIONS": None,  # the server sets it below its thread count
        "DEMO_SWITCH": settings.demo_switch_on,
        "CURRENCY": settings.currency,
        "PAGE_SIZE": settings.page_size,
        "EXPOSURE_LOG": settings.exposure_log,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.secure_cookies_on,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "PASSWORD_HASH_METHOD": "scrypt",
        "THROTTLE_STORAGE_URL": settings.redis_url
        if "redis_url" in settings.model_fields_set
        else None,
        "REDIS_PREFIX": settings.redis_prefix,
        "THROTTLE_PER_ACCOUNT": throttle.PER_ACCOUNT,
        "THROTTLE_PER_ADDRESS": throttle.PER_ADDRESS,
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
    reco_client.init_app(app)
    event_reporter.init_app(app)
    throttle.init_app(app)
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


def _refuse_nul_bytes() -> None:
    """before_request.

    PostgreSQL cannot hold a NUL byte in text, and a log should never show one, so a path, query or
    form carrying one is refused before anything reads it.
    """
    values = [request.path]
    for multidict in (request.args, request.form) if request.method == "POST" else (request.args,):
        values.extend(value for _, found in multidict.lists() for value in found)
    if any("\x00" in value for value in values):
        abort(400, "Addresses and forms cannot contain NUL characters.")


def _register_blueprints(app: Flask) -> None:
    for module in (catalog, product, cart, orders, auth, demo, images, health, admin):
        app.register_blueprint(module.bp)
    app.before_request(_refuse_nul_bytes)
    app.before_request(visitor.load_user)


def _categories() -> list[tuple[str, int]]:
    """The navigation's categories, refreshed every few minutes rather than queried per page."""
    return remembered(
        CATEGORIES_CACHE, None, lambda: products.categories(db.get_db()), CATEGORIES_TTL_S
    )


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

    @app.errorhandler(400)
    def bad_request(error: HTTPException) -> tuple[str, int]:
        return render_template("errors/error.html", code=400, message=error.description), 400

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> tuple[str, int]:
        message = "The form has expired or did not come from this site. Please try again."
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    @app.errorhandler(db.DatabaseUnavailableError)
    def database_unavailable(error: Exception) -> tuple[str, int, dict[str, str]]:
        if not isinstance(error, db.DatabaseUnavailableError):
            app.logger.warning("the database failed: %s", str(error).splitlines()[0])
            if not db.is_contention(error):  # a busy moment is no outage: only this request fails
                db.rest(app)
        db.close_db()
        message = "The shop cannot reach its database right now. Please try again in a moment."
        page = render_template("errors/error.html", code=503, message=message, plain=True)
        return page, 503, {"Retry-After": str(int(app.config["DB_REST_S"]) or 1)}

    @app.errorhandler(500)
    def server_error(_error: Exception) -> tuple[str, int]:
        """Rendered without the database or the customer (`plain`): either may be what broke."""
        db.close_db()
        message = "Something broke on our side."
        return render_template("errors/error.html", code=500, message=message, plain=True), 500
