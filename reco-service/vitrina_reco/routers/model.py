"""`GET /model`: which version is served, when it was trained, on what data, how good it was."""

from fastapi import APIRouter, Request

from vitrina_reco.dependencies import store_of
from vitrina_reco.schemas import ModelInfo

router = APIRouter(tags=["model"])


@router.get("/model", response_model=ModelInfo)
async def model(request: Request) -> ModelInfo:
    state = await store_of(request).state()
    meta = state.meta
    return ModelInfo(
        version=state.version,
        published_at=state.published_at,
        trained_at=meta.trained_at,
        top_k=state.top_k,
        similar_k=state.similar_k,
        fallback_k=state.fallback_k,
        fallbacks=sorted(state.fallbacks),
        data=meta.data.model_dump(mode="json", by_alias=True, exclude_unset=True),
        metrics=meta.metrics,
        meta=meta.dump(),
    )
