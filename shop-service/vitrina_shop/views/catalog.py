"""Home, categories and search."""

from flask import Blueprint, abort, current_app, g, render_template, request

from vitrina_shop import experiments, recommendations
from vitrina_shop.data import products
from vitrina_shop.data.products import MAX_QUERY_LENGTH
from vitrina_shop.db import get_db
from vitrina_shop.reco_client import get_reco
from vitrina_shop.views.images import category_label
from vitrina_shop.visitor import cart_ids, events_visitor_id

bp = Blueprint("catalog", __name__)

BLOCK_SIZE = 12
SESSION_SOURCE = "session"  # reco-service's list of a visitor's events of today


def _page_number() -> int:
    """`?page=` must be a positive integer; anything else is a page that does not exist.

    ASCII digits only: `str.isdigit` also accepts '²', which `int` refuses (that was a 500).
    """
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
        abort(404)
    return int(raw)


@bp.get("/")
def home() -> str:
    db, reco = get_db(), get_reco()
    in_cart = cart_ids()
    personal = None
    assigned = experiments.current()
    plan = assigned.variant if assigned else None
    if plan is None or plan.personal:
        k, version = (plan.k, plan.version) if plan else (BLOCK_SIZE, None)
        if g.user is not None:
            # The discovery order: what the customer bought is in their orders already. What
            # they did as a guest before signing in re-ranks it too.
            personal = recommendations.recommended(
                db, reco, g.user.id, k, in_cart, version, events_visitor_id(), exclude_bought=True
            )
        elif guest := events_visitor_id():
            # A guest's list exists once they viewed something today (source `session`).
            answer = recommendations.recommended(db, reco, guest, k, in_cart, version, guest)
            personal = answer if answer.source == SESSION_SOURCE else None
    popular = recommendations.popular(db, reco, BLOCK_SIZE, in_cart)
    return render_template("catalog/home.html", personal=personal, popular=popular)


def _listing(title: str, query: str = "", category: str | None = None) -> str:
    number = _page_number()
    page = products.search(get_db(), query, category, number, current_app.config["PAGE_SIZE"])
    if number > page.pages or (category is not None and not page.total):
        abort(404)  # a page past the end, or a category no product has
    return render_template(
        "catalog/listing.html", title=title, page=page, query=query, category=category
    )


@bp.get("/products")
def all_products() -> str:
    return _listing("All products")


@bp.get("/category/<path:name>")
def category(name: str) -> str:
    return _listing(category_label(name), category=name)


@bp.get("/search")
def search() -> str:
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    return _listing(f"Search: {query}" if query else "All products", query=query)
