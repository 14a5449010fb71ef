"""Cart storage: one row per (owner, product); the owner is a customer id or a guest's id."""

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vitrina_shop.forms import MAX_QTY
from vitrina_shop.models import CartLine, Product


def lines(db: Session, owner_id: str) -> list[CartLine]:
    return list(
        db.scalars(
            select(CartLine).where(CartLine.owner_id == owner_id).order_by(CartLine.added_at)
        )
    )


def item_ids(db: Session, owner_id: str) -> list[str]:
    return list(db.scalars(select(CartLine.product_id).where(CartLine.owner_id == owner_id)))


def add(db: Session, owner_id: str, product: Product, qty: int) -> CartLine:
    line = db.get(CartLine, (owner_id, product.id))
    if line is None:
        line = CartLine(owner_id=owner_id, product_id=product.id, qty=0)
        db.add(line)
    line.qty = min(line.qty + qty, MAX_QTY)
    return line


def set_qty(db: Session, owner_id: str, product_id: str, qty: int) -> bool:
    """Change a line's quantity (0 removes it); False when the product is not in the cart."""
    line = db.get(CartLine, (owner_id, product_id))
    if line is None:
        return False
    if qty == 0:
        db.delete(line)
    else:
        line.qty = qty
    return True


def merge(db: Session, from_owner: str, to_owner: str) -> None:
    """A guest signs in: what they put in the cart moves into the customer's cart."""
    for line in lines(db, from_owner):
        add(db, to_owner, line.product, line.qty)
        db.delete(line)


def clear(db: Session, owner_id: str) -> None:
    db.execute(delete(CartLine).where(CartLine.owner_id == owner_id))
