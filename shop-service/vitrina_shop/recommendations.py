"""The recommendation blocks of the pages: reco-service first, the shop's own data when it fails."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from vitrina_shop import explanations
from vitrina_shop.cache import remembered
from vitrina_shop.data import products
from vitrina_shop.models import Product
from vitrina_shop.reco_client import RankedIds, RecoClient

SHOP_FALLBACK = "shop-popular"
POPULAR_CACHE = "vitrina_popular"
POPULAR_TTL_S = 30.0


@dataclass(frozen=True)
class Block:
    """Products to show, and who chose them (`personal`, `popular`, … or `shop-popular`).

    `reasons`: a sentence per product saying why it is shown ("" for none), when explained.
    """

    products: list[Product]
    source: str
    version: str | None = None
    reasons: list[str] = field(default_factory=list)


def _block(db: Session, answer: RankedIds | None, k: int, exclude: Sequence[str]) -> Block | None:
    if answer is None:
        return None
    skip = set(exclude)
    found = [p for p in products.by_ids(db, answer.item_ids) if p.id not in skip][:k]
    return Block(found, answer.source, answer.version) if found else None


def _explained(db: Session, answer: RankedIds, block: Block) -> Block:
    codes = dict(zip(answer.item_ids, answer.reasons, strict=False))
    ids = [p.id for p in block.products]
    notes = explanations.sentences(db, ids, [codes.get(i, "") for i in ids])
    return Block(block.products, block.source, block.version, notes)


def _fallback(db: Session, k: int, exclude: Sequence[str]) -> Block:
    return Block(products.popular(db, k, exclude), SHOP_FALLBACK)


def recommended(
    db: Session,
    reco: RecoClient,
    user_id: str,
    k: int,
    exclude: Sequence[str] = (),
    version: str | None = None,
    visitor_id: str | None = None,
    exclude_bought: bool = False,
) -> Block:
    """'Recommended for you': the shopper's list, the cart's contents left out, each explained."""
    answer = reco.recommendations(user_id, k, exclude, version, visitor_id, exclude_bought)
    block = _block(db, answer, k, exclude)
    if answer is None or block is None:
        return _fallback(db, k, exclude)
    return _explained(db, answer, block)


def popular(db: Session, reco: RecoClient, k: int, exclude: Sequence[str] = ()) -> Block:
    """'Popular'.

    The same for everyone and renewed once a day, so it is kept for half a minute per app, and twice
    as long a list as shown so that the cart's contents can be left out.
    """
    wide = 2 * k
    kept = remembered(
        POPULAR_CACHE,
        k,
        lambda: _block(db, reco.popular(wide), wide, ()) or _fallback(db, wide, ()),
        POPULAR_TTL_S,
    )
    skip = set(exclude)
    return Block([p for p in kept.products if p.id not in skip][:k], kept.source, kept.version)


def similar(db: Session, reco: RecoClient, product: Product, k: int) -> Block:
    """'Similar products': the model's list, else the category's best sellers."""
    answer = reco.similar(product.id, k)
    block = _block(db, answer, k, [product.id])
    if block is not None:
        return block
    same = products.popular(db, k, [product.id], product.category or None)
    return Block(same, SHOP_FALLBACK) if same else _fallback(db, k, [product.id])
