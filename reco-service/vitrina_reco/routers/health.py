"""Liveness and readiness, kept apart: alive means the process answers; ready means it can serve."""

from fastapi import APIRouter, Request

from vitrina_reco.dependencies import store_of
from vitrina_reco.responses import OrjsonResponse
from vitrina_reco.schemas import Health, Readiness
from vitrina_reco.store import NO_MODEL, StoreUnavailableError

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> OrjsonResponse:
    return OrjsonResponse({"status": "ok"})


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Redis unreachable or no model published"}},
)
async def ready(request: Request) -> OrjsonResponse:
    """Asks Redis now (not the cache): 200 when it answers and a model version is active."""
    try:
        version = await store_of(request).active_version()
    except StoreUnavailableError as exc:
        return OrjsonResponse({"ready": False, "model_version": None, "reason": str(exc)}, 503)
    if version is None:
        return OrjsonResponse({"ready": False, "model_version": None, "reason": NO_MODEL}, 503)
    return OrjsonResponse({"ready": True, "model_version": version, "reason": None})
