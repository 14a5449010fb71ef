"""`GET /recommendations/{user_id}`: the user's stored list, or a fallback for unknown users."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from vitrina_reco.access import set_source
from vitrina_reco.dependencies import store_of
from vitrina_reco.params import Exclude, K, UserId, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, ranked
from vitrina_reco.schemas import PERSONAL, Recommendations
from vitrina_reco.selection import select

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
) -> OrjsonResponse:
    """Ranked products for one customer; unknown ones get a fallback list, named in `source`."""
    excluded = parse_exclude(exclude)
    store = store_of(request)
    state = await store.state()
    check_k(k, state.top_k, "user", state.version)
    ranking = await store.user_ranking(state.version, user_id)
    fallback = state.fallback
    if ranking is None:
        if fallback is None:
            raise HTTPException(
                404,
                f"user {user_id!r} is unknown and model version {state.version} has no fallback",
            )
        source, ranking = fallback
        pairs, _ = select(ranking, k, excluded)
        topped_up = 0
    else:
        source = PERSONAL
        if exclude_bought and ranking.bought:
            excluded = excluded | frozenset(ranking.bought)
        pairs, topped_up = select(ranking, k, excluded, fallback[1] if fallback else None)
    set_source(request.scope, source)
    return OrjsonResponse(
        {
            "user_id": user_id,
            "items": ranked(pairs),
            "model_version": state.version,
            "source": source,
            "fallback_items": topped_up,
        }
    )
