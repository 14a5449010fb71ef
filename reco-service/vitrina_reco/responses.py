"""orjson-encoded JSON responses.

Handlers build plain dicts shaped like the schemas and skip FastAPI's per-response validation (the
schemathesis test checks every answer against them).
"""

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse

from vitrina_reco.access import set_source
from vitrina_reco.blending import Blended
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


def blended_list(
    request: Request,
    version: str,
    source: str,
    blended: list[Blended],
    topup: list[tuple[str, float]],
    **ids: str,
) -> OrjsonResponse:
    """A `RankedList` of re-ranked products, each with its reason, then the fallback's top-up.

    The top-up is counted in `fallback_items` unless the fallback is the whole answer.
    """
    set_source(request.scope, source)
    items = [
        {Columns.ITEM: b.item, Columns.SCORE: b.score, Columns.REASON: b.reason} for b in blended
    ]
    items += [
        {Columns.ITEM: item, Columns.SCORE: score, Columns.REASON: None} for item, score in topup
    ]
    return OrjsonResponse(
        {
            **ids,
            "items": items,
            "model_version": version,
            "source": source,
            "fallback_items": len(topup) if blended else 0,
        }
    )
