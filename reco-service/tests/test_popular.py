def test_popular_is_the_fallback_list(api, publish):
    publish("v1")
    response = api.get("/popular", params={"k": 3})
    assert response.json() == {
        "items": [
            {"item_id": "c", "score": 40.0},
            {"item_id": "a", "score": 30.0},
            {"item_id": "e", "score": 20.0},
        ],
        "model_version": "v1",
        "source": "popular",
        "fallback_items": 0,
    }


def test_popular_honours_exclude(api, publish):
    publish("v1")
    response = api.get("/popular", params={"k": 2, "exclude": ["c", "e"]})
    assert [entry["item_id"] for entry in response.json()["items"]] == ["a", "f"]


def test_popular_k_above_stored_length_is_422(api, publish):
    publish("v1")
    response = api.get("/popular", params={"k": 5})
    assert response.status_code == 422
    assert (
        response.json()["detail"]
        == "k=5 is above the 4 products stored per fallback list by model version v1"
    )


def test_popular_without_fallback_list_is_404(api, publish):
    publish("v1", fallbacks={})
    assert api.get("/popular", params={"k": 1}).status_code == 404


def test_popular_without_a_model_is_503(api):
    assert api.get("/popular").status_code == 503
