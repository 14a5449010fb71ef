"""The app as a whole: its OpenAPI document, and errors nobody planned for."""

import gc
import re

import pytest

from vitrina_reco.app import create_app
from vitrina_reco.settings import RecoSettings
from vitrina_reco.store import RecoStore

OPERATIONS = {
    "/recommendations/{user_id}": "Recommendations",
    "/similar/{item_id}": "SimilarItems",
    "/popular": "RankedList",
    "/model": "ModelInfo",
    "/health": "Health",
    "/ready": "Readiness",
}


@pytest.fixture(scope="module")
def openapi() -> dict:
    return create_app(RecoSettings()).openapi()


@pytest.mark.parametrize(("path", "schema"), OPERATIONS.items())
def test_every_answer_has_a_typed_schema(openapi, path, schema):
    ok = openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": f"#/components/schemas/{schema}"}


@pytest.mark.parametrize("schema", ["Recommendations", "SimilarItems", "RankedList", "ModelInfo"])
def test_every_field_of_the_main_answers_is_described(openapi, schema):
    properties = openapi["components"]["schemas"][schema]["properties"]
    undocumented = [
        name
        for name, spec in properties.items()
        if name not in ("user_id", "item_id", "version") and not spec.get("description")
    ]
    assert not undocumented


@pytest.mark.parametrize("path", ["/recommendations/{user_id}", "/similar/{item_id}", "/popular"])
def test_errors_are_documented(openapi, path):
    responses = openapi["paths"][path]["get"]["responses"]
    assert {"400", "404", "422", "503"} <= set(responses)
    assert "401" not in responses  # no token configured


def test_unknown_paths_are_json_404(api):
    response = api.get("/nope")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_an_unexpected_error_is_a_json_500_without_traceback(api, publish, monkeypatch):
    publish("v1")

    async def broken(self, version, user_id, visitor_id, recent):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(RecoStore, "session", broken)
    response = api.get("/recommendations/u1", params={"k": 2})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; see the service log"}
    assert "secret" not in response.text


def test_docs_load_swagger_ui_from_the_service_itself(api):
    page = api.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    scripts = re.findall(r"""url: ["']([^"']+)["']""", page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for url in assets + scripts:
        assert url.startswith("/"), f"{url} is not served by the service"
        assert api.get(url).status_code == 200, url


def test_metrics_documents_its_401_when_a_token_is_set():
    responses = create_app(RecoSettings(RECO_API_TOKEN="t" * 32)).openapi()["paths"]["/metrics"]
    assert "401" in responses["get"]["responses"]


def test_what_startup_built_is_frozen_out_of_the_collectors_sight(serve):
    # A full collection under load walked every module, route and model: bench-reco's p99.
    gc.unfreeze()
    serve()
    assert gc.get_freeze_count() > 10_000
