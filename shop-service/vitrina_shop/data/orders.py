"""Order queries: a customer's orders, one of them by id, and the order a checkout key placed."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from vitrina_shop.models import Order

# Order ids are the database's 32-bit integers: a larger one names no order (and PostgreSQL
# would refuse to compare it).
MAX_ORDER_ID = 2**31 - 1


def with_key(db: Session, user_id: str, key: str) -> Order | None:
    """The customer's order placed by the checkout form carrying `key`, if it was placed."""
    return db.scalar(select(Order).where(Order.checkout_key == key, Order.user_id == user_id))


def of_customer(db: Session, user_id: str) -> list[Order]:
    """The customer's orders, newest first, with their lines (the history page counts them)."""
    return list(
        db.scalars(
            select(Order)
            .where(Order.user_id == user_id)
            .order_by(Order.created_at.desc())
            .options(selectinload(Order.lines))
        )
    )


def owned(db: Session, user_id: str, order_id: int) -> Order | None:
    """Order `order_id` if it is the customer's; None for another's order or an id beyond range."""
    order = db.get(Order, order_id) if order_id <= MAX_ORDER_ID else None
    return order if order is not None and order.user_id == user_id else None
