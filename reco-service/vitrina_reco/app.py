"""The app factory: settings in, a FastAPI app out; the lifespan opens and closes the Redis pool."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from vitrina_reco.access import AccessMiddleware
from vitrina_reco.dependencies import require_token
from vitrina_reco.fast_path import FastRecommendations
from vitrina_reco.metrics import RecoMetrics
from vitrina_reco.responses import OrjsonResponse
from vitrina_reco.routers import (
    events,
    health,
    metrics,
    model,
    popular,
    recommendations,
    similar,
)
from vitrina_reco.schemas import ErrorMessage
from vitrina_reco.settings import RecoSettings
from vitrina_reco.store import NoModelPublishedError, RecoStore, StoreUnavailableError

log = logging.getLogger("vitrina_reco")

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Malformed HTTP request (e.g. a URL over 64 KiB), refused by the server",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    422: {
        "model": ErrorMessage,
        "description": "Bad input, e.g. an id breaking the id rule or a `k` above the lists the "
        "active model stored (`GET /model`): the message says what is wrong",
    },
    503: {
        "model": ErrorMessage,
        "description": "Redis unreachable or slow, no model published, or its data unreadable",
    },
}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorMessage, "description": "Missing or wrong bearer token"},
}
# `/metrics` answers text, but its 401 is JSON like every other error: say so explicitly.
METRICS_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {
        "description": AUTH_ERRORS[401]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}}},
    },
}
# A body that is not even text (bad UTF-8) is refused by FastAPI itself, with a JSON message.
BAD_BODY: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Malformed HTTP request, or a body that is not UTF-8 JSON",
        "content": {
            **ERRORS[400]["content"],
            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorMessage"}},
        },
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorMessage, "description": "Unknown id and no fallback list published"},
}


ECHOED = 40  # characters of a bad value repeated in the message


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if part not in ("path", "query"))


def _echo(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= ECHOED else text[:ECHOED] + "…"


async def _validation_error(request: Request, exc: RequestValidationError) -> OrjsonResponse:
    """One readable sentence instead of a list of dicts, e.g. `k: Input should be ≥ 1 (got '0')`."""
    parts = [
        f"{_location(e.get('loc', ()))}: {e.get('msg', 'invalid')} (got {_echo(e.get('input'))})"
        for e in exc.errors()
    ]
    return OrjsonResponse({"detail": "; ".join(parts)}, 422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> OrjsonResponse:
    return OrjsonResponse({"detail": str(exc.detail)}, exc.status_code, headers=exc.headers)


async def _store_unavailable(request: Request, exc: StoreUnavailableError) -> OrjsonResponse:
    log.warning("503: %s", exc)
    return OrjsonResponse({"detail": str(exc)}, 503)


async def _no_model(request: Request, exc: NoModelPublishedError) -> OrjsonResponse:
    return OrjsonResponse({"detail": str(exc)}, 503)


async def _unexpected(request: Request, exc: Exception) -> OrjsonResponse:
    log.exception("unexpected error on %s", request.url.path)
    return OrjsonResponse({"detail": "internal error; see the service log"}, 500)


def create_app(settings: RecoSettings | None = None) -> FastAPI:
    """Build the service; nothing connects until the app starts (its lifespan)."""
    settings = settings or RecoSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = RecoStore.connect(
            settings.redis_url,
            settings.redis_prefix,
            settings.redis_timeout,
            settings.version_ttl_seconds,
            settings.redis_cluster,
        )
        # Everything built so far (modules, the app, its routes and models; ~74,000 objects)
        # lives as long as the process: out of the collector's sight, a full collection under
        # load is a pause of milliseconds, not a walk over all of them that stalls every request
        # in flight.
        gc.freeze()
        try:
            yield
        finally:
            await app.state.store.close()

    # `/docs` and `/redoc` load Swagger UI and ReDoc from files in the installed package (no CDN),
    # so the docs work on a machine without internet access.
    app = FastAPIOffline(
        title="Vitrina reco-service",
        summary="Recommendations published by the Vitrina trainer, served from Redis.",
        version="0.1.0",
        lifespan=lifespan,
        # Our own Prometheus metrics and access log cover it; skip FastAPI's per-request check.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        default_response_class=OrjsonResponse,
        exception_handlers={
            RequestValidationError: _validation_error,
            StarletteHTTPException: _http_error,
            StoreUnavailableError: _store_unavailable,
            NoModelPublishedError: _no_model,
            Exception: _unexpected,
        },
    )
    app.state.metrics = RecoMetrics()
    app.state.settings = settings
    token = settings.api_token
    app.state.token = token.get_secret_value().encode() if token else b""
    # Health and readiness stay open; everything else needs the token when one is set.
    guard = [Depends(require_token)] if token is not None else []
    errors = {**ERRORS, **AUTH_ERRORS} if token is not None else ERRORS

    app.include_router(health.router)
    for router in (recommendations.router, similar.router, popular.router):
        app.include_router(router, dependencies=guard, responses={**errors, **NOT_FOUND})
    app.include_router(model.router, dependencies=guard, responses=errors)
    app.include_router(events.router, dependencies=guard, responses={**errors, **BAD_BODY})
    app.include_router(
        metrics.router, dependencies=guard, responses=METRICS_AUTH_ERRORS if token else {}
    )
    # Built now rather than at the first request: the fast path goes ahead of FastAPI's own
    # middleware (fast_path.py), the access log and metrics ahead of both.
    app.middleware_stack = AccessMiddleware(
        FastRecommendations(app.build_middleware_stack(), app),
        metrics=app.state.metrics,
        access_log=settings.access_log,
    )
    return app
