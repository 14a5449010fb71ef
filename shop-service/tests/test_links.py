from types import SimpleNamespace

from flask import Flask

from vitrina_shop.links import EXTENSION, image_url, product_url


def _product(**fields: str) -> SimpleNamespace:
    return SimpleNamespace(**{"image_url": "", "category": "", "title": "", **fields})


def test_product_urls_are_quoted_and_remembered(app: Flask) -> None:
    with app.test_request_context():
        assert product_url("A 1") == "/product/A%201"
        assert product_url("A 1") == "/product/A%201"
        assert [url for _, url in app.extensions[EXTENSION].values()] == ["/product/A%201"]


def test_image_url_prefers_the_products_own_then_category_then_title_word(app: Flask) -> None:
    with app.test_request_context():
        assert (
            image_url(_product(image_url="https://img.example/1.jpg"))
            == "https://img.example/1.jpg"
        )
        assert image_url(_product(category="kitchen.mugs")) == "/img/placeholder/kitchen.mugs.svg"
        assert (
            image_url(_product(title="WHITE HEART T-LIGHT HOLDER")) == "/img/placeholder/holder.svg"
        )
        assert image_url(_product(title="42")) == "/img/placeholder/_.svg"
