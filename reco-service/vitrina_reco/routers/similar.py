"""`GET /similar/{item_id}`: products like this one; a fallback list for unknown products."""

from fastapi import APIRouter, HTTPException, Request

from vitrina_reco.dependencies import store_of
from vitrina_reco.params import Exclude, ItemId, K, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, ranked_list
from vitrina_reco.schemas import SIMILAR, SimilarItems
from vitrina_reco.selection import select_or_fallback
from vitrina_reco.versions import Version, state_for

router = APIRouter(tags=["recommendations"])


@router.get("/similar/{item_id}", response_model=SimilarItems)
async def similar(
    request: Request,
    item_id: ItemId,
    k: K = 10,
    exclude: Exclude = [],  # noqa: B006 - FastAPI copies query defaults per request
    version: Version = None,
) -> OrjsonResponse:
    """The product itself is never in its own list."""
    excluded = parse_exclude(exclude) | {item_id}
    store = store_of(request)
    state = await state_for(store, version)
    check_k(k, state.similar_k, "product", state.version)
    ranking = await store.similar(state.version, item_id)
    selected = select_or_fallback(ranking, SIMILAR, state.fallback, k, excluded)
    if selected is None:
        raise HTTPException(
            404,
            f"product {item_id!r} is unknown and model version {state.version} has no fallback",
        )
    return ranked_list(request, state.version, *selected, item_id=item_id)
