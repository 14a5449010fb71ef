from vitrina_shared.schema import ShopEventLog
from vitrina_shop.models import event_row, events


def test_event_table_is_exactly_the_shared_contract() -> None:
    assert events.name == ShopEventLog.TABLE
    assert [c.name for c in events.columns] == list(ShopEventLog.COLUMNS.values())
    assert not events.primary_key.columns


def test_event_row_fills_every_column_as_the_site() -> None:
    from datetime import UTC, date, datetime

    when = datetime(2024, 5, 6, 23, 59, 1, tzinfo=UTC)
    assert event_row("u1", "purchase", "A1", 49900, 2, when) == {
        "platform": "Site",
        "utc_event_time": when,
        "utc_event_date": date(2024, 5, 6),
        "user_id": "u1",
        "event_type": "purchase",
        "price100": 49900,
        "qty": 2,
        "nm": "A1",
    }
