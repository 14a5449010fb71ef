"""`init`: the catalog from items.csv, plus the products and customers that only the events know.

Running it again updates what changed and adds what is new; it never duplicates a row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vitrina_shared.catalog import OUTPUT_COLUMNS, read_items
from vitrina_shared.events import read_events
from vitrina_shared.ids import is_valid_id
from vitrina_shared.schema import Columns
from vitrina_shop.models import Product, User
from vitrina_shop.money import is_valid_price100

BATCH = 5_000
TITLE_LENGTH = Product.title.type.length
CATEGORY_LENGTH = Product.category.type.length
IMAGE_URL_LENGTH = Product.image_url.type.length
NAME_LENGTH = User.name.type.length


@dataclass
class ImportReport:
    products_added: int = 0
    products_updated: int = 0
    products_skipped: int = 0
    customers_added: int = 0
    customers_updated: int = 0
    customers_skipped: int = 0

    def __str__(self) -> str:
        return (
            f"products: {self.products_added} added, {self.products_updated} updated, "
            f"{self.products_skipped} skipped; customers: {self.customers_added} added, "
            f"{self.customers_updated} updated, {self.customers_skipped} skipped"
        )


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _storable(row: dict) -> bool:
    """What the tables can hold.

    A valid id and price, no NUL (PostgreSQL refuses it in text), a category and image URL within
    their columns. A long title is shortened instead.
    """
    return (
        is_valid_id(row["id"])
        and is_valid_price100(row["price100"])
        and not any("\x00" in row[name] for name in ("title", "category", "image_url"))
        and len(row["category"]) <= CATEGORY_LENGTH
        and len(row["image_url"]) <= IMAGE_URL_LENGTH
    )


def _price(value: object) -> int | None:
    """An integral price as a Python int (never a wrapped int64), else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def generated_title(item_id: str, category: str = "") -> str:
    """A readable name for a product the catalog does not list."""
    leaf = category.rsplit(".", 1)[-1].replace("_", " ").strip()
    return f"{leaf.capitalize() or 'Product'} {item_id}"


def _upsert(
    session: Session, model: type[Product] | type[User], rows: list[dict], new_defaults: dict
) -> tuple[int, int]:
    """Insert new rows (with `new_defaults`), update existing ones by primary key."""
    existing: set[str] = set()
    for start in range(0, len(rows), BATCH):
        chunk = [row["id"] for row in rows[start : start + BATCH]]
        existing.update(session.scalars(select(model.id).where(model.id.in_(chunk))))
    new = [{**new_defaults, **row} for row in rows if row["id"] not in existing]
    old = [row for row in rows if row["id"] in existing]
    for start in range(0, len(new), BATCH):
        session.execute(insert(model), new[start : start + BATCH])
    for start in range(0, len(old), BATCH):
        session.execute(update(model), old[start : start + BATCH])
    return len(new), len(old)


def _product_rows(items: pd.DataFrame | None, events: pd.DataFrame | None) -> list[dict]:
    rows: dict[str, dict] = {}
    if items is not None:
        for item_id, title, category, price, image in items[list(OUTPUT_COLUMNS)].itertuples(
            index=False
        ):
            item_id, category = _text(item_id), _text(category)
            rows[item_id] = {
                "id": item_id,
                "title": _text(title).strip()[:TITLE_LENGTH]
                or generated_title(item_id, category)[:TITLE_LENGTH],
                "category": category,
                "price100": _price(price),
                "image_url": _text(image),
            }
    if events is not None and not events.empty:
        for row in rows.values():
            row["popularity"] = 0
        grouped = events.groupby(Columns.ITEM, observed=True)
        last_price = grouped[Columns.PRICE].last()
        counts = grouped.size()
        for item_id, count in counts.items():
            item_id = str(item_id)
            row = rows.get(item_id)
            if row is None:
                row = rows[item_id] = {
                    "id": item_id,
                    "title": generated_title(item_id)[:TITLE_LENGTH],
                    "category": "",
                    "price100": _price(last_price[item_id]),
                    "image_url": "",
                }
            row["popularity"] = int(count)
    return list(rows.values())


def _customer_rows(events: pd.DataFrame) -> list[dict]:
    counts = events.groupby(Columns.USER, observed=True).size()
    return [
        {"id": str(user_id), "name": f"Customer {user_id}"[:NAME_LENGTH], "event_count": int(count)}
        for user_id, count in counts.items()
    ]


def import_data(
    session: Session,
    items_path: Path | None = None,
    event_paths: Sequence[Path] = (),
) -> ImportReport:
    """Import into an open session; the caller commits (one transaction for the whole import)."""
    report = ImportReport()
    items = read_items(items_path) if items_path else None
    events = read_events(list(event_paths)).events if event_paths else None
    found = _product_rows(items, events)
    kept = [row for row in found if _storable(row)]
    # the catalog reader's own skipped rows (bad id or price) count as well as the ones here
    read_skipped = sum(items.attrs.get("skipped", {}).values()) if items is not None else 0
    report.products_skipped = read_skipped + len(found) - len(kept)
    report.products_added, report.products_updated = _upsert(
        session, Product, kept, {"popularity": 0}
    )
    if events is not None:
        customers = _customer_rows(events)
        valid = [row for row in customers if is_valid_id(row["id"])]
        report.customers_skipped = len(customers) - len(valid)
        report.customers_added, report.customers_updated = _upsert(
            session, User, valid, {"from_data": True}
        )
    return report
