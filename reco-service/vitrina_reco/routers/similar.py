"""`GET /similar/{item_id}`: products like this one; a fallback list for unknown products."""

from fastapi import APIRouter, HTTPException, Request

from vitrina_reco.access import set_source
from vitrina_reco.dependencies import store_of
from vitrina_reco.params import Exclude, ItemId, K, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, ranked
from vitrina_reco.schemas import SIMILAR, SimilarItems
from vitrina_reco.selection import select

router = APIRouter(tags=["recommendations"])


@router.get("/similar/{item_id}", response_model=SimilarItems)
async def similar(
    request: Request,
    item_id: ItemId,
    k: K = 10,
    exclude: Exclude = [],  # noqa: B006 - FastAPI copies query defaults per request
) -> OrjsonResponse:
    """The product itself is never in its own list."""
    excluded = parse_exclude(exclude) | {item_id}
    store = store_of(request)
    state = await store.state()
    check_k(k, state.similar_k, "product", state.version)
    ranking = await store.similar(state.version, item_id)
    fallback = state.fallback
    if ranking is None:
        if fallback is None:
            raise HTTPException(
                404,
                f"product {item_id!r} is unknown and model version {state.version} has no fallback",
            )
        source, ranking = fallback
        pairs, _ = select(ranking, k, excluded)
        topped_up = 0
    else:
        source = SIMILAR
        pairs, topped_up = select(ranking, k, excluded, fallback[1] if fallback else None)
    set_source(request.scope, source)
    return OrjsonResponse(
        {
            "item_id": item_id,
            "items": ranked(pairs),
            "model_version": state.version,
            "source": source,
            "fallback_items": topped_up,
        }
    )
