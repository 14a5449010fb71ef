"""`GET /popular`: the fallback list itself, served from memory (it is cached with the version)."""

from fastapi import APIRouter, HTTPException, Request

from vitrina_reco.dependencies import store_of
from vitrina_reco.params import Exclude, K, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, ranked_list
from vitrina_reco.schemas import RankedList
from vitrina_reco.selection import select
from vitrina_reco.versions import Version, state_for

router = APIRouter(tags=["recommendations"])


@router.get("/popular", response_model=RankedList)
async def popular(
    request: Request,
    k: K = 10,
    exclude: Exclude = [],  # noqa: B006 - FastAPI copies query defaults per request
    version: Version = None,
) -> OrjsonResponse:
    excluded = parse_exclude(exclude)
    state = await state_for(store_of(request), version)
    if state.fallback is None:
        raise HTTPException(404, f"model version {state.version} has no fallback list")
    check_k(k, state.fallback_k, "fallback list", state.version)
    source, ranking = state.fallback
    return ranked_list(request, state.version, source, *select(ranking, k, excluded))
