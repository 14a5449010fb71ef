"""The shop's tables: catalog, customers, carts, orders, and the event log the trainer reads."""

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from vitrina_shared.ids import MAX_ID_LENGTH
from vitrina_shared.schema import ShopEventLog

ID_LENGTH = MAX_ID_LENGTH


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(200), default="", index=True)
    price100: Mapped[int] = mapped_column(BigInteger)
    image_url: Mapped[str] = mapped_column(String(500), default="")
    popularity: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_products_popularity", popularity.desc(), id),)


class User(Base):
    """A customer: from the data (the data's user_id, no password) or signed up (fresh id)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    from_data: Mapped[bool] = mapped_column(default=False)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SignIn(Base):
    """A signed-in browser.

    The session cookie holds this random id, not the customer's, so signing out deletes the row and
    a copy of the cookie made before no longer signs anyone in.
    """

    __tablename__ = "sign_ins"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class CartLine(Base):
    """One product in a visitor's cart; the owner is a customer id or a guest's session id."""

    __tablename__ = "cart_lines"

    owner_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"), primary_key=True)
    qty: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    product: Mapped[Product] = relationship(lazy="joined")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    total100: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(Text)
    # The checkout form's one-time key: a second submission of the form finds this order.
    checkout_key: Mapped[str | None] = mapped_column(String(64))

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )

    __table_args__ = (Index("ix_orders_checkout_key", user_id, checkout_key, unique=True),)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(300))
    price100: Mapped[int] = mapped_column(BigInteger)
    qty: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")


# The event log has exactly the columns of `ShopEventLog`: no surrogate key, so a reader can
# `SELECT *` and get the export's schema back.
events = Table(
    ShopEventLog.TABLE,
    Base.metadata,
    Column("platform", String(20), nullable=False),
    Column("utc_event_time", DateTime(timezone=True), nullable=False),
    Column("utc_event_date", Date, nullable=False),
    Column("user_id", String(ID_LENGTH), nullable=False),
    Column("event_type", String(20), nullable=False),
    Column("price100", BigInteger, nullable=False),
    Column("qty", Integer, nullable=False),
    Column("nm", String(ID_LENGTH), nullable=False),
    Index("ix_events_utc_event_time", "utc_event_time"),
)


def event_row(
    user_id: str, event_type: str, product_id: str, price100: int, qty: int, when: datetime
) -> dict[str, object]:
    """One row of the event log, as the export would have written it from the shop's site."""
    return {
        "platform": "Site",
        "utc_event_time": when,
        "utc_event_date": date(when.year, when.month, when.day),
        "user_id": user_id,
        "event_type": event_type,
        "price100": price100,
        "qty": qty,
        "nm": product_id,
    }


# Measuring the recommendations (exposure.py, experiments.py, kpis.py): what was shown, what was
# clicked, which experiment decided it; and who may open /admin.


class Impression(Base):
    """One recommendation block as rendered.

    Its products in position order (JSON), who chose them, and the experiment variant of the
    visitor. The id is made by the shop per block, so a
    click's signed reference can name it before the row is written; it begins with the time, so
    rows go to the end of the index instead of dirtying a random page each (the log's write cost).
    No index on the visitor: the reports read an experiment's rows, by its index.
    """

    __tablename__ = "impressions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(32))
    visitor_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    block: Mapped[str] = mapped_column(String(20))
    items: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(40))
    model_version: Mapped[str | None] = mapped_column(String(100))
    experiment: Mapped[str | None] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_impressions_experiment", experiment, variant, created_at),)


class RecoClick(Base):
    """A click on a recommended product, tied to its impression and position."""

    __tablename__ = "reco_clicks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    impression_id: Mapped[str] = mapped_column(String(32), index=True)
    position: Mapped[int] = mapped_column(Integer)
    visitor_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    product_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_reco_clicks_visitor", visitor_id, product_id, created_at),)


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    running: Mapped[bool] = mapped_column(default=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    variants: Mapped[list["Variant"]] = relationship(
        cascade="all, delete-orphan", order_by="Variant.position", lazy="selectin"
    )


class Variant(Base):
    """A share of the traffic and what it is shown.

    `strategy` is `active`, a model version, or `control` (popular products only, no personal
    list); `k` products in the personal block.
    """

    __tablename__ = "experiment_variants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    share: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(100))
    k: Mapped[int] = mapped_column(Integer)
    is_control: Mapped[bool] = mapped_column(default=False)


class Admin(Base):
    """The admin role: these customers may open /admin."""

    __tablename__ = "admins"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
