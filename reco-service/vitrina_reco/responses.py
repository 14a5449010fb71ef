"""orjson-encoded JSON responses.

Handlers build plain dicts shaped like the schemas and skip FastAPI's per-response validation (the
schemathesis test checks every answer against them).
"""

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from vitrina_reco.access import set_source
from vitrina_shared.schema import Columns


class OrjsonResponse(JSONResponse):
    """A JSONResponse (so OpenAPI documents the response model) rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def ranked_list(
    request: Request,
    version: str,
    source: str,
    pairs: list[tuple[str, float]],
    fallback_items: int,
    **ids: str,
) -> OrjsonResponse:
    """A `RankedList` (with the id it is for, if any); the source goes to the log and metrics."""
    set_source(request.scope, source)
    return OrjsonResponse(
        {
            **ids,
            "items": [{Columns.ITEM: item, Columns.SCORE: score} for item, score in pairs],
            "model_version": version,
            "source": source,
            "fallback_items": fallback_items,
        }
    )
