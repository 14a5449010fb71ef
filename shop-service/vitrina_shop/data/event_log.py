"""Writing the shop's traffic to the event log, in the export's schema, for the next training run.

Rows are added to the caller's session, so an event commits together with what caused it (an
order and its purchase events are one transaction). Once that transaction commits, each event is
also queued for reco-service, which re-ranks the shopper's next list with it; a rolled-back one
is never reported.
"""

from datetime import UTC, datetime
from functools import partial

from sqlalchemy import insert
from sqlalchemy.orm import Session

from vitrina_shared.schema import EventType
from vitrina_shop.db import after_commit
from vitrina_shop.event_reporter import get_reporter
from vitrina_shop.models import Product, event_row, events
from vitrina_shop.visitor import note_event


def log_events(
    db: Session, user_id: str, event_type: EventType, lines: list[tuple[Product, int, int]]
) -> None:
    """One row per (product, unit price in kopecks, quantity), all with the same time."""
    now = datetime.now(UTC)
    rows = [
        event_row(user_id, event_type.value, product.id, price100, qty, now)
        for product, price100, qty in lines
    ]
    if rows:
        db.execute(insert(events), rows)
        item_ids = [product.id for product, _, _ in lines]
        after_commit(db, partial(get_reporter().report, user_id, event_type.value, item_ids, now))
        note_event()


def log_event(
    db: Session, user_id: str, event_type: EventType, product: Product, qty: int = 1
) -> None:
    log_events(db, user_id, event_type, [(product, product.price100, qty)])
