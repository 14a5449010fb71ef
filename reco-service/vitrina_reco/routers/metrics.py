"""`GET /metrics`: the app's Prometheus registry in the text exposition format."""

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus metrics"}},
)
async def metrics(request: Request) -> PlainTextResponse:
    body = generate_latest(request.app.state.metrics.registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)
