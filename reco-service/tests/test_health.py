def test_health_answers_without_redis_or_model(serve):
    api = serve(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    assert api.get("/health").json() == {"status": "ok"}


def test_ready_once_a_model_is_published(api, publish):
    response = api.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "ready": False,
        "model_version": None,
        "reason": "no model published yet",
    }
    publish("v1")
    response = api.get("/ready")
    assert (response.status_code, response.json()) == (
        200,
        {"ready": True, "model_version": "v1", "reason": None},
    )
