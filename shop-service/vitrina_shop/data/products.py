"""Catalog queries: built with SQLAlchemy expressions only, never from strings."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vitrina_shop.models import Product

MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class Page:
    products: list[Product]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def by_ids(db: Session, ids: Sequence[str]) -> list[Product]:
    """The products of `ids` in that order; ids the shop does not know are dropped."""
    if not ids:
        return []
    found = {p.id: p for p in db.scalars(select(Product).where(Product.id.in_(list(ids))))}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def popular(
    db: Session, k: int, exclude: Collection[str] = (), category: str | None = None
) -> list[Product]:
    """The shop's own most popular products: the fallback when reco-service cannot answer."""
    query = select(Product).order_by(Product.popularity.desc(), Product.id)
    if category is not None:
        query = query.where(Product.category == category)
    if exclude:
        query = query.where(Product.id.not_in(list(exclude)))
    return list(db.scalars(query.limit(k)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    db: Session, query: str = "", category: str | None = None, page: int = 1, size: int = 24
) -> Page:
    """Products whose title or id contains every word of `query`, most popular first."""
    conditions = []
    if category is not None:
        conditions.append(Product.category == category)
    for word in query.split()[:8]:
        pattern = f"%{_escape_like(word.lower())}%"
        conditions.append(
            or_(func.lower(Product.title).like(pattern, escape="\\"), Product.id == word)
        )
    total = db.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
    products = db.scalars(
        select(Product)
        .where(*conditions)
        .order_by(Product.popularity.desc(), Product.id)
        .offset((page - 1) * size)
        .limit(size)
    )
    return Page(list(products), page, size, total)


def categories(db: Session, limit: int = 12) -> list[tuple[str, int]]:
    """The biggest categories with their product counts (empty category left out)."""
    rows = db.execute(
        select(Product.category, func.count())
        .where(Product.category != "")
        .group_by(Product.category)
        .order_by(func.count().desc(), Product.category)
        .limit(limit)
    )
    return [(name, count) for name, count in rows]
