def items(response) -> list[str]:
    return [entry["item_id"] for entry in response.json()["items"]]


def test_known_product_gets_its_similar_products(api, publish):
    publish("v1")
    response = api.get("/similar/a", params={"k": 2})
    assert response.status_code == 200
    assert response.json() == {
        "item_id": "a",
        "items": [{"item_id": "b", "score": 0.3}, {"item_id": "c", "score": 0.2}],
        "model_version": "v1",
        "source": "similar",
        "fallback_items": 0,
    }


def test_similar_honours_exclude_and_tops_up_without_the_product_itself(api, publish):
    publish("v1")
    response = api.get("/similar/a", params={"k": 3, "exclude": "b"})
    assert items(response) == ["c", "d", "e"]
    assert response.json()["fallback_items"] == 1


def test_unknown_product_gets_popular_without_itself(api, publish):
    publish("v1")
    response = api.get("/similar/e", params={"k": 3})
    assert response.json()["source"] == "popular"
    assert items(response) == ["c", "a", "f"]


def test_bad_item_id_is_422(api, publish):
    publish("v1")
    response = api.get("/similar/" + "x" * 200)
    assert response.status_code == 422
    assert "item_id: String should have at most 128 characters" in response.json()["detail"]


def test_unknown_product_without_fallback_is_404(api, publish):
    publish("v1", fallbacks={})
    assert api.get("/similar/zzz", params={"k": 2}).status_code == 404


def test_k_above_the_stored_similar_lists_is_422(api, publish):
    publish("v1", meta={"top_k": 4, "similar_k": 2})
    response = api.get("/similar/a", params={"k": 3})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "k=3 is above the 2 products stored per product by model version v1"
    )
