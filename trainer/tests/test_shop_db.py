import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from vitrina_shared.events import MISSING_USER, UNKNOWN_EVENT
from vitrina_shared.schema import ShopEventLog
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.shop_db import read_shop_events

ROWS = [
    ("Site", datetime(2024, 1, 1, 10, 0, tzinfo=UTC), "u1", "view_item", 34900, 1, "42"),
    ("iOS", datetime(2024, 1, 1, 11, 0, tzinfo=UTC), "u1", "purchase", 34900, 2, "42"),
    ("Site", datetime(2024, 1, 2, 9, 0, tzinfo=UTC), "", "view_item", 100, 1, "7"),
    ("Site", datetime(2024, 1, 2, 9, 5, tzinfo=UTC), "u2", "refund", 100, 1, "7"),
]


def event_table(metadata: sa.MetaData, columns: dict[str, str] = ShopEventLog.COLUMNS) -> sa.Table:
    types = {
        "platform": sa.String(20),
        "utc_event_time": sa.DateTime(timezone=True),
        "utc_event_date": sa.Date,
        "user_id": sa.String(128),
        "event_type": sa.String(20),
        "price100": sa.BigInteger,
        "qty": sa.Integer,
        "nm": sa.String(128),
    }
    return sa.Table(
        ShopEventLog.TABLE, metadata, *(sa.Column(c, types[c]) for c in columns.values())
    )


def fill(url: str, rows=ROWS, columns: dict[str, str] = ShopEventLog.COLUMNS) -> None:
    engine = sa.create_engine(url)
    table = event_table(sa.MetaData(), columns)
    table.create(engine)
    names = list(ShopEventLog.COLUMNS.values())
    with engine.begin() as connection:
        for platform, time, user, event, price, qty, nm in rows:
            values = dict(
                zip(names, (platform, time, time.date(), user, event, price, qty, nm), strict=True)
            )
            connection.execute(
                table.insert().values({k: v for k, v in values.items() if k in table.c})
            )
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def postgres_url(test_database_url) -> Iterator[str]:
    """A schema of our own in the test database, so the table name clashes with nobody's."""
    schema = f"trainer_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(test_database_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = make_url(test_database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def test_reads_and_cleans_the_shop_event_log(database_url):
    fill(database_url)
    log = read_shop_events(database_url)
    assert log.rows_read == 4
    assert log.skipped == {MISSING_USER: 1, UNKNOWN_EVENT: 1}
    events = log.events
    assert events["user_id"].astype(str).tolist() == ["u1", "u1"]
    assert events["item_id"].astype(str).tolist() == ["42", "42"]
    assert events["event_type"].astype(str).tolist() == ["view_item", "purchase"]
    assert events["platform"].astype(str).tolist() == ["Site", "iOS"]
    assert events["price100"].tolist() == [34900, 34900] and events["qty"].tolist() == [1, 2]
    assert events["datetime"].tolist() == [
        datetime(2024, 1, 1, 10, tzinfo=UTC),
        datetime(2024, 1, 1, 11, tzinfo=UTC),
    ]


def test_an_empty_event_log_is_no_error(database_url):
    fill(database_url, rows=[])
    log = read_shop_events(database_url)
    assert (log.rows_read, len(log.events)) == (0, 0)


def test_optional_columns_may_be_absent(sqlite_url):
    required = {
        raw: sql
        for raw, sql in ShopEventLog.COLUMNS.items()
        if sql not in ("platform", "utc_event_date")
    }
    fill(sqlite_url, columns=required)
    log = read_shop_events(sqlite_url)
    assert log.events["platform"].astype(str).tolist() == ["unknown", "unknown"]
    assert log.missing_share["platform"] == 1.0


def test_a_shop_without_tables_yet_has_logged_nothing(database_url, caplog):
    """A fresh stack: the trainer may read before the shop has created its tables."""
    log = read_shop_events(database_url)
    assert (log.rows_read, len(log.events)) == (0, 0)
    assert "no table 'events' yet" in caplog.text


def test_missing_required_column_is_a_clear_error(sqlite_url):
    fill(sqlite_url, columns={k: v for k, v in ShopEventLog.COLUMNS.items() if v != "nm"})
    with pytest.raises(TrainerError, match="table 'events' lacks column"):
        read_shop_events(sqlite_url)


def test_unreachable_database_is_a_clear_error_without_the_password():
    url = "postgresql+psycopg://shop:s3cret@127.0.0.1:1/shop?connect_timeout=2"
    with pytest.raises(
        TrainerError, match=r"shop database postgresql\+psycopg://shop:\*\*\*@"
    ) as info:
        read_shop_events(url)
    assert "s3cret" not in str(info.value)


def test_unusable_url_is_a_clear_error():
    with pytest.raises(TrainerError, match="not a usable SQLAlchemy URL"):
        read_shop_events("nosuchdb://x")
