"""orjson-encoded JSON responses: handlers build plain dicts shaped like the schemas and skip
FastAPI's per-response validation (the schemathesis test checks every answer against them)."""

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    """A JSONResponse (so OpenAPI documents the response model) rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ranked(pairs: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"item_id": item, "score": score} for item, score in pairs]
