"""The product page: price, add-to-cart, similar products; every view goes to the event log."""

from flask import Blueprint, abort, render_template

from vitrina_shared.ids import is_valid_id
from vitrina_shared.schema import EventType
from vitrina_shop import exposure, recommendations
from vitrina_shop.data.event_log import log_event
from vitrina_shop.db import get_db
from vitrina_shop.forms import AddToCartForm
from vitrina_shop.models import Product
from vitrina_shop.reco_client import get_reco
from vitrina_shop.visitor import visitor_id

bp = Blueprint("product", __name__, url_prefix="/product")

SIMILAR_SIZE = 8


def get_product(product_id: str) -> Product:
    """The product, or 404 (also for ids no product can have)."""
    product = get_db().get(Product, product_id) if is_valid_id(product_id) else None
    if product is None:
        abort(404)
    return product


@bp.get("/<path:product_id>")
def detail(product_id: str) -> str:
    db = get_db()
    product = get_product(product_id)
    log_event(db, visitor_id(), EventType.VIEW, product)
    exposure.clicked(product.id)
    db.commit()
    similar = recommendations.similar(db, get_reco(), product, SIMILAR_SIZE)
    return render_template(
        "product/detail.html", product=product, similar=similar, form=AddToCartForm()
    )
