"""The sentence shown under a recommended product, from the reason code reco-service gave it.

Codes are `vitrina_shared.reasons`' and the session's `viewed_today:<item>`; a code the shop does
not know, or a product it cannot name, shows nothing rather than a half sentence.
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina_shared.reasons import Reason, ReasonCode, parse_reason
from vitrina_shop.models import Product
from vitrina_shop.views.images import category_label

VIEWED_TODAY = "viewed_today"  # reco-service's blend: a product of today's events


def sentence(product_id: str, reason: Reason, titles: Mapping[str, str]) -> str:
    """`similar_to:p7` → 'Similar to “Desk lamp”'; unknown codes → ''."""
    if reason.code == ReasonCode.BOUGHT_BEFORE:
        return "You bought this before"
    if reason.code == ReasonCode.VIEWED_BEFORE:
        return "You looked at this before"
    if reason.code == ReasonCode.POPULAR:
        return "Popular right now"
    if reason.code == ReasonCode.POPULAR_IN_CATEGORY and reason.about:
        return f"Popular in {category_label(reason.about)}"
    if reason.code == VIEWED_TODAY and reason.about == product_id:
        return "You viewed this today"
    title = titles.get(reason.about)
    if reason.code == VIEWED_TODAY and title:
        return f"Because you viewed “{title}” today"
    if reason.code == ReasonCode.SIMILAR_TO and title:
        return f"Similar to “{title}”"
    return ""


def sentences(db: Session, product_ids: Sequence[str], reasons: Sequence[str]) -> list[str]:
    """One sentence per product (aligned), the titles they name read in one query."""
    parsed = [parse_reason(text) for text in reasons]
    subjects = {r.about for r in parsed if r.code in (ReasonCode.SIMILAR_TO, VIEWED_TODAY)}
    subjects.discard("")
    titles: dict[str, str] = {}
    if subjects:
        rows = db.execute(select(Product.id, Product.title).where(Product.id.in_(subjects)))
        titles = {row.id: row.title for row in rows}
    return [sentence(p, r, titles) for p, r in zip(product_ids, parsed, strict=True)]
