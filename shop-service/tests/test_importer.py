from pathlib import Path

import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import select

from vitrina_shop import importer
from vitrina_shop.db import initialize, session_scope
from vitrina_shop.importer import generated_title
from vitrina_shop.models import Product, User

BIG_ID = "340282366920938463463374607431768211455"


def _products(app: Flask) -> dict[str, tuple[str, str, int, int]]:
    with session_scope(app) as db:
        return {
            p.id: (p.title, p.category, p.price100, p.popularity)
            for p in db.scalars(select(Product))
        }


def _users(app: Flask) -> dict[str, tuple[str, bool, int]]:
    with session_scope(app) as db:
        return {u.id: (u.name, u.from_data, u.event_count) for u in db.scalars(select(User))}


def test_catalog_and_products_only_in_events(app: Flask) -> None:
    assert _products(app) == {
        "A1": ("Red mug", "kitchen.mugs", 49900, 2),
        "A2": ("Blue mug", "kitchen.mugs", 59950, 0),
        "B1": ("Desk lamp", "home.lighting", 199000, 2),
        "C1": ("Notebook", "", 12000, 0),
        "X9": ("Product X9", "", 1500, 2),  # generated title, the last seen price
    }


def test_customers_keep_the_data_ids_as_strings(app: Flask) -> None:
    assert _users(app) == {
        "u1": ("Customer u1", True, 2),
        "u2": ("Customer u2", True, 2),
        BIG_ID: (f"Customer {BIG_ID}", True, 2),
    }


def test_running_init_again_changes_nothing(app: Flask, data_files: tuple[Path, Path]) -> None:
    before = (_products(app), _users(app))
    report = initialize(app, data_files[0], [data_files[1]])
    assert (report.products_added, report.products_updated) == (0, 5)
    assert (report.customers_added, report.customers_updated) == (0, 3)
    assert (_products(app), _users(app)) == before


def test_items_only_keeps_popularity_and_updates_prices(app: Flask, tmp_path: Path) -> None:
    items = tmp_path / "new-items.csv"
    items.write_text("nm,title,price100\nA1,Red mug XL,55000\nD1,Teapot,250000\n")
    report = initialize(app, items, [])
    assert (report.products_added, report.products_updated) == (1, 1)
    products = _products(app)
    assert products["A1"] == ("Red mug XL", "", 55000, 2)  # the newer catalog decides
    assert products["D1"] == ("Teapot", "", 250000, 0)


def test_generated_title_uses_the_category_leaf() -> None:
    assert generated_title("42", "electronics.smartphone") == "Smartphone 42"
    assert generated_title("42") == "Product 42"


@pytest.mark.realdata
def test_the_real_online_retail_export_imports(datasets_dir: Path, tmp_path: Path) -> None:
    from .conftest import make_app

    folder = datasets_dir / "online-retail-2009"
    app = make_app(f"sqlite:///{tmp_path / 'real.sqlite3'}", "http://127.0.0.1:9", CURRENCY="GBP")
    report = initialize(app, folder / "items.csv", [folder / "events.csv.gz"])
    assert report.products_added > 4000 and report.customers_added == 4312
    page = app.test_client().get("/product/79323P").get_data(as_text=True)
    assert "£" in page
    with session_scope(app) as db:
        assert db.get(User, "13085").from_data


def test_rows_the_tables_cannot_hold_are_refused() -> None:
    """Whatever a reader lets through: NUL bytes, bad ids, prices out of range, long text."""
    good = {"item_id": "G1", "title": "Good", "category": "c", "price100": 100, "image_url": ""}
    bad = [
        {"item_id": "N1", "title": "Nul\x00title"},
        {"item_id": "N2", "category": "kit\x00chen"},
        {"item_id": "N\x003"},
        {"item_id": "S 1"},
        {"item_id": ""},
        {"item_id": "P1", "price100": 0},
        {"item_id": "P2", "price100": -(2**63)},
        {"item_id": "P3", "price100": 1.5},
        {"item_id": "C1", "category": "c" * 201},
        {"item_id": "I1", "image_url": "https://x/" + "i" * 500},
    ]
    items = pd.DataFrame([good] + [{**good, **row} for row in bad])
    rows = importer._product_rows(items, None)
    assert [row["id"] for row in rows if importer._storable(row)] == ["G1"]
