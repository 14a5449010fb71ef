"""`GET /model`: which version is served, when it was trained, on what data, how good it was."""

from typing import Any

from fastapi import APIRouter, Request

from vitrina_reco.dependencies import store_of
from vitrina_reco.schemas import ModelInfo

router = APIRouter(tags=["model"])


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@router.get("/model", response_model=ModelInfo)
async def model(request: Request) -> ModelInfo:
    state = await store_of(request).state()
    meta = state.meta
    trained_at = meta.get("trained_at")
    return ModelInfo(
        version=state.version,
        published_at=state.published_at,
        trained_at=str(trained_at) if trained_at is not None else None,
        top_k=state.top_k,
        similar_k=state.similar_k,
        fallback_k=state.fallback_k,
        fallbacks=sorted(state.fallbacks),
        data=_dict(meta.get("data")),
        metrics=_dict(meta.get("metrics")),
        meta=meta,
    )
