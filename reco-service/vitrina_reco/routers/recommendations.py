"""`GET /recommendations/{user_id}`: the user's stored list, or a fallback for unknown users."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from vitrina_reco.dependencies import store_of
from vitrina_reco.params import Exclude, K, UserId, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, ranked_list
from vitrina_reco.schemas import PERSONAL, Recommendations
from vitrina_reco.selection import select_or_fallback
from vitrina_reco.versions import Version, state_for

router = APIRouter(tags=["recommendations"])

ExcludeBought = Annotated[
    bool, Query(description="Leave out what the user already bought (when the model stored it).")
]


@router.get("/recommendations/{user_id}", response_model=Recommendations)
async def recommendations(
    request: Request,
    user_id: UserId,
    k: K = 10,
    exclude: Exclude = [],  # noqa: B006 - FastAPI copies query defaults per request
    exclude_bought: ExcludeBought = False,
    version: Version = None,
) -> OrjsonResponse:
    """Ranked products for one customer; unknown ones get a fallback list, named in `source`."""
    excluded = parse_exclude(exclude)
    store = store_of(request)
    state = await state_for(store, version)
    check_k(k, state.top_k, "user", state.version)
    ranking = await store.user_ranking(state.version, user_id)
    if exclude_bought and ranking is not None and ranking.bought:
        excluded |= frozenset(ranking.bought)
    selected = select_or_fallback(ranking, PERSONAL, state.fallback, k, excluded)
    if selected is None:
        raise HTTPException(
            404, f"user {user_id!r} is unknown and model version {state.version} has no fallback"
        )
    return ranked_list(request, state.version, *selected, user_id=user_id)
