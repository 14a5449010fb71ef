from flask import Flask

from vitrina_shop.data import products
from vitrina_shop.db import session_scope


def test_by_ids_keeps_the_order_and_drops_unknown_and_repeated(app: Flask) -> None:
    with session_scope(app) as db:
        found = products.by_ids(db, ["B1", "NOPE", "A1", "B1"])
        assert [p.id for p in found] == ["B1", "A1"]
        assert products.by_ids(db, []) == []


def test_popular_by_category_and_exclusion(app: Flask) -> None:
    with session_scope(app) as db:
        assert [p.id for p in products.popular(db, 10)] == ["A1", "B1", "X9", "A2", "C1"]
        assert [p.id for p in products.popular(db, 2, ["A1"])] == ["B1", "X9"]
        assert [p.id for p in products.popular(db, 10, (), "kitchen.mugs")] == ["A1", "A2"]


def test_search_needs_every_word_and_matches_ids(app: Flask) -> None:
    with session_scope(app) as db:
        assert [p.id for p in products.search(db, "red MUG").products] == ["A1"]
        assert [p.id for p in products.search(db, "X9").products] == ["X9"]
        page = products.search(db, "", None, 2, 2)
        assert ([p.id for p in page.products], page.total, page.pages) == (["X9", "A2"], 5, 3)
        assert page.has_previous and page.has_next


def test_categories_by_size(app: Flask) -> None:
    with session_scope(app) as db:
        assert products.categories(db) == [("kitchen.mugs", 2), ("home.lighting", 1)]
