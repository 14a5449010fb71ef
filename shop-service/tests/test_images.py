from flask.testing import FlaskClient

from vitrina_shop.views.images import category_label, placeholder_svg


def test_category_label() -> None:
    assert category_label("electronics.smartphone") == "Electronics › Smartphone"
    assert category_label("home_garden") == "Home garden"
    assert category_label("") == "All products"


def test_same_category_same_picture_other_category_other_colours() -> None:
    assert placeholder_svg("kitchen.mugs") == placeholder_svg("kitchen.mugs")
    assert "Mugs" in placeholder_svg("kitchen.mugs")
    assert placeholder_svg("kitchen.mugs") != placeholder_svg("home.lighting")


def test_placeholder_is_served_as_cacheable_svg(client: FlaskClient) -> None:
    response = client.get("/img/placeholder/kitchen.mugs.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.cache_control.max_age == 86_400
    assert b"Mugs" in response.data


def test_product_without_image_links_its_category_placeholder(client: FlaskClient) -> None:
    page = client.get("/product/A1").get_data(as_text=True)
    assert 'src="/img/placeholder/kitchen.mugs.svg"' in page
