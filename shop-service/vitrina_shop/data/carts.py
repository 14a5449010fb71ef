"""Cart storage: one row per (owner, product); the owner is a customer id or a guest's id.

Every change is one statement, so concurrent requests of one visitor add up exactly: a read
followed by a write would lose the units another request added in between.
"""

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vitrina_shop.forms import MAX_QTY
from vitrina_shop.models import CartLine, utcnow

DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def lines(db: Session, owner_id: str) -> list[CartLine]:
    return list(
        db.scalars(
            select(CartLine).where(CartLine.owner_id == owner_id).order_by(CartLine.added_at)
        )
    )


def item_ids(db: Session, owner_id: str) -> list[str]:
    return list(db.scalars(select(CartLine.product_id).where(CartLine.owner_id == owner_id)))


def _capped(qty: object) -> object:
    return case((qty > MAX_QTY, MAX_QTY), else_=qty)


def add(db: Session, owner_id: str, product_id: str, qty: int) -> None:
    """Insert the line or add to it, at most MAX_QTY units, in one atomic upsert."""
    insert = DIALECT_INSERTS[db.get_bind().dialect.name](CartLine)
    statement = insert.values(
        owner_id=owner_id, product_id=product_id, qty=min(qty, MAX_QTY), added_at=utcnow()
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[CartLine.owner_id, CartLine.product_id],
            set_={"qty": _capped(CartLine.qty + statement.excluded.qty)},
        )
    )


def set_qty(db: Session, owner_id: str, product_id: str, qty: int) -> bool:
    """Change a line's quantity (0 removes it); False when the product is not in the cart."""
    where = (CartLine.owner_id == owner_id, CartLine.product_id == product_id)
    if qty == 0:
        result = db.execute(delete(CartLine).where(*where))
    else:
        result = db.execute(update(CartLine).where(*where).values(qty=qty))
    return result.rowcount > 0


def merge(db: Session, from_owner: str, to_owner: str) -> None:
    """A guest signs in: what they put in the cart moves into the customer's cart."""
    for product_id, qty in take(db, from_owner):
        add(db, to_owner, product_id, qty)


def take(db: Session, owner_id: str) -> list[tuple[str, int]]:
    """Empty the cart and return what it held, (product id, qty) in the order added.

    A delete that returns its rows: of two concurrent checkouts of one cart, the second waits for
    the first's row locks and then finds the cart empty, so a cart becomes one order at most.
    """
    rows = db.execute(
        delete(CartLine)
        .where(CartLine.owner_id == owner_id)
        .returning(CartLine.product_id, CartLine.qty, CartLine.added_at)
    ).all()
    return [(product_id, qty) for product_id, qty, _ in sorted(rows, key=lambda row: row[2])]
