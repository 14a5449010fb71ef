"""`init`: the catalog from items.csv, plus the products and customers that only the events know.

Running it again updates what changed and adds what is new; it never duplicates a row.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from vitrina_shared.catalog import read_items
from vitrina_shared.events import read_events
from vitrina_shared.schema import Columns
from vitrina_shop.models import Product, User

BATCH = 5_000


@dataclass
class ImportReport:
    products_added: int = 0
    products_updated: int = 0
    customers_added: int = 0
    customers_updated: int = 0

    def __str__(self) -> str:
        return (
            f"products: {self.products_added} added, {self.products_updated} updated; "
            f"customers: {self.customers_added} added, {self.customers_updated} updated"
        )


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
        for item_id, title, category, price, image in items[
            ["item_id", "title", "category", "price100", "image_url"]
        ].itertuples(index=False):
            rows[str(item_id)] = {
                "id": str(item_id),
                "title": str(title).strip() or generated_title(str(item_id), str(category)),
                "category": str(category or ""),
                "price100": int(price),
                "image_url": str(image or ""),
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
                    "title": generated_title(item_id),
                    "category": "",
                    "price100": int(last_price[item_id]),
                    "image_url": "",
                }
            row["popularity"] = int(count)
    return list(rows.values())


def _customer_rows(events: pd.DataFrame) -> list[dict]:
    counts = events.groupby(Columns.USER, observed=True).size()
    return [
        {"id": str(user_id), "name": f"Customer {user_id}", "event_count": int(count)}
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
    report.products_added, report.products_updated = _upsert(
        session, Product, _product_rows(items, events), {"popularity": 0}
    )
    if events is not None:
        report.customers_added, report.customers_updated = _upsert(
            session, User, _customer_rows(events), {"from_data": True}
        )
    return report
