"""Reading the shop's own event log back, so the next run learns from the shop's traffic.

The table and its columns are `ShopEventLog`'s; rows are renamed to the export's raw columns and
cleaned by `clean_events`, so they meet exactly the validation a CSV export meets. A shop that has
not created its tables yet (a fresh stack, where the trainer may start first) has logged nothing:
its log is empty, not an error.
"""

import logging

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from vitrina_shared.events import EventLog, clean_events
from vitrina_shared.schema import Raw, ShopEventLog
from vitrina_shared.settings import hide_password
from vitrina_trainer.errors import TrainerError

log = logging.getLogger(__name__)


def read_shop_events(url: str) -> EventLog:
    """The shop's events as an `EventLog`; an empty or absent table gives an empty log."""
    shown = hide_password(url)
    try:
        engine = sa.create_engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise TrainerError(f"shop database {shown}: not a usable SQLAlchemy URL ({exc})") from exc
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            if not inspector.has_table(ShopEventLog.TABLE):
                log.warning(
                    "shop database %s: no table %r yet (the shop has not started): no shop events",
                    shown,
                    ShopEventLog.TABLE,
                )
                return clean_events(pd.DataFrame(columns=list(Raw.ALL)), source=shown)
            present = {c["name"] for c in inspector.get_columns(ShopEventLog.TABLE)}
            wanted = {raw: sql for raw, sql in ShopEventLog.COLUMNS.items() if sql in present}
            missing = [ShopEventLog.COLUMNS[raw] for raw in Raw.REQUIRED if raw not in wanted]
            if missing:
                raise TrainerError(
                    f"shop database {shown}: table {ShopEventLog.TABLE!r} lacks column(s) "
                    f"{', '.join(missing)}"
                )
            table = sa.table(ShopEventLog.TABLE, *(sa.column(sql) for sql in wanted.values()))
            query = sa.select(*(table.c[sql].label(raw) for raw, sql in wanted.items()))
            raw = pd.read_sql(query, connection, dtype=object)
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        raise TrainerError(f"shop database {shown}: {str(reason).strip()}") from exc
    finally:
        engine.dispose()
    events = clean_events(raw, source=f"{shown} table {ShopEventLog.TABLE}")
    log.info(
        "shop database: %d rows read, %d events kept, %d skipped",
        events.rows_read,
        len(events.events),
        events.rows_skipped,
    )
    return events
