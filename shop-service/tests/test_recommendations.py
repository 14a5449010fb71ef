import pytest
from flask import Flask

from vitrina_shop import cache, recommendations
from vitrina_shop.db import session_scope
from vitrina_shop.reco_client import RecoClient

from .conftest import ANSWER_TIMEOUT_S, FakeReco


def _ids(block: recommendations.Block) -> list[str]:
    return [p.id for p in block.products]


def test_recommended_drops_unknown_and_excluded_products(app: Flask, fake_reco: FakeReco) -> None:
    fake_reco.answer("/recommendations/u1", ["GONE", "A2", "C1", "B1", "A1"])
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with session_scope(app) as db:
        block = recommendations.recommended(db, reco, "u1", 2, ["C1"])
    assert (_ids(block), block.source, block.version) == (["A2", "B1"], "personal", "v-test")
    assert [query for _, query, _ in fake_reco.requests] == [{"k": ["2"], "exclude": ["C1"]}]
    reco.close()


def test_a_list_of_only_unknown_products_falls_back(app: Flask, fake_reco: FakeReco) -> None:
    fake_reco.answer("/recommendations/u1", ["GONE"])
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with session_scope(app) as db:
        block = recommendations.recommended(db, reco, "u1", 3, ["A1"])
    assert (_ids(block), block.source) == (["B1", "X9", "A2"], recommendations.SHOP_FALLBACK)
    reco.close()


def test_similar_without_a_category_falls_back_to_popular(app: Flask, fake_reco: FakeReco) -> None:
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with session_scope(app) as db:
        from vitrina_shop.models import Product

        block = recommendations.similar(db, reco, db.get(Product, "C1"), 2)
    assert (_ids(block), block.source) == (["A1", "B1"], recommendations.SHOP_FALLBACK)
    reco.close()


def test_popular_is_kept_per_app_and_leaves_out_the_cart(app: Flask, fake_reco: FakeReco) -> None:
    fake_reco.answer("/popular", ["A1", "B1", "C1"], source="popular")
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with app.app_context(), session_scope(app) as db:
        first = recommendations.popular(db, reco, 2)
        second = recommendations.popular(db, reco, 2, ["A1"])
    assert (_ids(first), first.source, first.version) == (["A1", "B1"], "popular", "v-test")
    assert _ids(second) == ["B1", "C1"]
    assert [(path, query) for path, query, _ in fake_reco.requests] == [("/popular", {"k": ["4"]})]
    reco.close()


def test_popular_is_renewed_when_its_half_minute_is_over(
    app: Flask, fake_reco: FakeReco, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    fake_reco.answer("/popular", ["A1", "B1"], source="popular")
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with app.app_context(), session_scope(app) as db:
        assert _ids(recommendations.popular(db, reco, 2)) == ["A1", "B1"]
        fake_reco.answer("/popular", ["C1", "A2"], source="popular")
        now[0] += recommendations.POPULAR_TTL_S - 0.001
        assert _ids(recommendations.popular(db, reco, 2)) == ["A1", "B1"]  # still kept
        now[0] += 0.001
        assert _ids(recommendations.popular(db, reco, 2)) == ["C1", "A2"]  # renewed
    assert len(fake_reco.requests) == 2
    reco.close()


@pytest.mark.parametrize(("k", "exclude", "shown"), [(1, [], ["A1"]), (2, ["A1"], ["B1", "C1"])])
def test_popular_shows_k_products_of_its_longer_list(
    app: Flask, fake_reco: FakeReco, k: int, exclude: list[str], shown: list[str]
) -> None:
    fake_reco.answer("/popular", ["A1", "B1", "C1", "A2", "X9"], source="popular")
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with app.app_context(), session_scope(app) as db:
        assert _ids(recommendations.popular(db, reco, k, exclude)) == shown
        assert _ids(recommendations.popular(db, reco, k)) == ["A1", "B1", "C1"][:k]
    reco.close()


def test_similar_is_the_model_s_list_trimmed_to_k(app: Flask, fake_reco: FakeReco) -> None:
    fake_reco.answer("/similar/A1", ["A2", "B1", "C1", "X9"], source="similar")
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with session_scope(app) as db:
        from vitrina_shop.models import Product

        block = recommendations.similar(db, reco, db.get(Product, "A1"), 2)
    assert (_ids(block), block.source) == (["A2", "B1"], "similar")
    assert [query for _, query, _ in fake_reco.requests] == [{"k": ["2"]}]
    reco.close()


def test_similar_of_a_product_alone_in_its_category_falls_back_to_popular(
    app: Flask, fake_reco: FakeReco
) -> None:
    reco = RecoClient(fake_reco.url, ANSWER_TIMEOUT_S, None)
    with session_scope(app) as db:
        from vitrina_shop.models import Product

        block = recommendations.similar(db, reco, db.get(Product, "B1"), 2)  # home.lighting
    assert (_ids(block), block.source) == (["A1", "X9"], recommendations.SHOP_FALLBACK)
    reco.close()
