import gzip
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from vitrina_shop.db import engine_of, prepare, session_scope
from vitrina_shop.models import Product

from .conftest import make_app


def _count(app) -> int:
    with session_scope(app) as db:
        return db.scalar(select(func.count()).select_from(Product))


def test_prepare_fills_an_empty_shop_from_data_dir_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_files: tuple[Path, Path]
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    shutil.copy(data_files[0], data_dir / "items.csv")
    (data_dir / "events.csv.gz").write_bytes(gzip.compress(data_files[1].read_bytes()))
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    app = make_app(f"sqlite:///{tmp_path / 'shop.sqlite3'}", "http://127.0.0.1:9")
    report = prepare(app)
    assert (report.products_added, report.customers_added) == (5, 3)
    assert prepare(app) is None  # a shop with a catalog is left alone
    assert _count(app) == 5
    engine_of(app).dispose()


def test_prepare_without_data_only_creates_the_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("ITEMS", "EVENTS"):
        monkeypatch.delenv(name, raising=False)
    app = make_app(f"sqlite:///{tmp_path / 'shop.sqlite3'}", "http://127.0.0.1:9")
    assert prepare(app) is None
    assert _count(app) == 0
    assert app.test_client().get("/").status_code == 200  # an empty shop still renders
    engine_of(app).dispose()


def test_a_database_made_before_checkout_keys_gets_the_column(database_url: str) -> None:
    from sqlalchemy import inspect, text

    from vitrina_shop.db import create_tables, make_engine

    engine = make_engine(database_url)
    create_tables(engine)
    with engine.begin() as conn:  # the orders table as the first release made it
        conn.execute(text("DROP INDEX ix_orders_checkout_key"))
        conn.execute(text("ALTER TABLE orders DROP COLUMN checkout_key"))
    create_tables(engine)
    create_tables(engine)  # and again: nothing left to add
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("orders")}
        indexes = {i["name"]: i["unique"] for i in inspect(conn).get_indexes("orders")}
    engine.dispose()
    assert "checkout_key" in columns and indexes["ix_orders_checkout_key"]
