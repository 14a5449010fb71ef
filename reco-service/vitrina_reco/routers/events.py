"""`POST /events`: the shop reports views, add-to-carts and purchases as they happen.

They are kept per shopper in Redis as a short capped list with a TTL (the layout in
`vitrina_shared.redis_layout`) and re-rank that shopper's next `/recommendations`.
"""

from fastapi import APIRouter, Request

from vitrina_reco.blending import Event
from vitrina_reco.dependencies import settings_of, store_of
from vitrina_reco.responses import OrjsonResponse
from vitrina_reco.schemas import EventBatch, EventsAccepted
from vitrina_reco.store import USER, VISITOR, event_entry

router = APIRouter(tags=["events"])


@router.post("/events", status_code=202, response_model=EventsAccepted)
async def record_events(request: Request, batch: EventBatch) -> OrjsonResponse:
    """Store a batch of events (one Redis round trip); a bad event refuses the batch with a 422."""
    settings = settings_of(request)
    shoppers: dict[tuple[str, str], list[str]] = {}
    for event in sorted(batch.events, key=lambda e: e.time):
        shopper = (USER, event.user_id) if event.user_id else (VISITOR, event.visitor_id or "")
        entry = event_entry(
            Event(event.item_id, event.event_type.value, int(event.time.timestamp()))
        )
        shoppers.setdefault(shopper, []).append(entry)
    await store_of(request).record(shoppers, settings.recent_events, settings.recent_ttl_seconds)
    return OrjsonResponse({"accepted": len(batch.events)}, 202)
