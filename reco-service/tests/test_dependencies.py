"""Auth: with RECO_API_TOKEN set, everything but health, readiness and docs needs the token."""

import pytest

TOKEN = "s3cret-token-for-tests"
GUARDED = ["/recommendations/u1?k=2", "/similar/a?k=2", "/popular?k=2", "/model", "/metrics"]
OPEN = ["/health", "/ready", "/docs", "/openapi.json"]


@pytest.fixture
def guarded_api(serve, publish):
    publish("v1")
    return serve(RECO_API_TOKEN=TOKEN)


@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        # The right token with anything added, or a part of it, is as wrong as any other.
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN}{TOKEN}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN.upper()}"},
    ],
    ids=["none", "wrong", "basic", "no-scheme", "suffix", "twice", "prefix", "case"],
)
def test_guarded_endpoints_refuse_without_the_token(guarded_api, path, headers):
    response = guarded_api.get(path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "detail": "missing or wrong bearer token (Authorization: Bearer <RECO_API_TOKEN>)"
    }


@pytest.mark.parametrize("path", GUARDED)
def test_guarded_endpoints_answer_with_the_token(guarded_api, path):
    response = guarded_api.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", OPEN)
def test_health_readiness_and_docs_need_no_token(guarded_api, path):
    assert guarded_api.get(path).status_code == 200


def test_openapi_declares_the_bearer_scheme_when_auth_is_on(guarded_api):
    schema = guarded_api.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path in (
        "/recommendations/{user_id}",
        "/similar/{item_id}",
        "/popular",
        "/model",
        "/metrics",
    ):
        assert "401" in schema["paths"][path]["get"]["responses"], path


@pytest.mark.parametrize("path", GUARDED)
def test_without_a_token_configured_no_auth_is_asked(api, publish, path):
    publish("v1")
    assert api.get(path).status_code == 200
