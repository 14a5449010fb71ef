"""`GET /popular`: the fallback list itself, served from memory (it is cached with the version)."""

from fastapi import APIRouter, HTTPException, Request

from vitrina_reco.access import set_source
from vitrina_reco.dependencies import store_of
from vitrina_reco.params import Exclude, K, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, ranked
from vitrina_reco.schemas import RankedList
from vitrina_reco.selection import select

router = APIRouter(tags=["recommendations"])


@router.get("/popular", response_model=RankedList)
async def popular(
    request: Request,
    k: K = 10,
    exclude: Exclude = [],  # noqa: B006 - FastAPI copies query defaults per request
) -> OrjsonResponse:
    excluded = parse_exclude(exclude)
    state = await store_of(request).state()
    fallback = state.fallback
    if fallback is None:
        raise HTTPException(404, f"model version {state.version} has no fallback list")
    check_k(k, state.fallback_k, "fallback list", state.version)
    source, ranking = fallback
    pairs, _ = select(ranking, k, excluded)
    set_source(request.scope, source)
    return OrjsonResponse(
        {
            "items": ranked(pairs),
            "model_version": state.version,
            "source": source,
            "fallback_items": 0,
        }
    )
