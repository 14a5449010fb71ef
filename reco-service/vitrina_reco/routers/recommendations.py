"""`GET /recommendations/{user_id}`.

The user's stored list re-ranked by their recent events, or a fallback (re-ranked the same way) for
users the model does not know.
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from vitrina_reco.blending import blend
from vitrina_reco.dependencies import settings_of, store_of
from vitrina_reco.params import Exclude, K, UserId, VisitorId, check_k, parse_exclude
from vitrina_reco.responses import OrjsonResponse, blended_list
from vitrina_reco.schemas import PERSONAL, SESSION, Recommendations
from vitrina_reco.selection import Pairs, select
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
    visitor_id: VisitorId = None,
) -> OrjsonResponse:
    """Ranked products for one customer, re-ranked by today's events.

    `source` says what answered: `personal` (their stored list), `session` (no stored list but
    recent events) or a fallback.
    """
    excluded = parse_exclude(exclude)
    store = store_of(request)
    state = await state_for(store, version)
    check_k(k, state.top_k, "user", state.version)
    session = await store.session(
        state.version, user_id, visitor_id, settings_of(request).recent_events
    )
    ranking = session.ranking
    if exclude_bought and ranking is not None:
        excluded |= frozenset(ranking.bought)
        if ranking.discovery is not None:  # the trainer's own order of products new to them
            ranking = ranking.discovery
    blended = blend(ranking, session.events, session.similar, k, excluded)
    source = PERSONAL if ranking is not None else SESSION if blended else None
    extra: Pairs = []
    if len(blended) < k and state.fallback is not None:
        name, fallback = state.fallback
        extra, _ = select(fallback, k - len(blended), excluded | {b.item for b in blended})
        source = source or name
    if source is None:
        raise HTTPException(
            404, f"user {user_id!r} is unknown and model version {state.version} has no fallback"
        )
    return blended_list(request, state.version, source, blended, extra, user_id=user_id)
