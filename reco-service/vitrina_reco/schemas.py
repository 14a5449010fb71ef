"""Response schemas: what `/docs` and `/openapi.json` promise, field by field."""

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from vitrina_reco.params import ID_RULE
from vitrina_shared.ids import is_valid_id
from vitrina_shared.schema import EventType

MAX_EVENTS = 100  # per POST /events: a shop sends a page's worth, never a backlog

PERSONAL = "personal"
SESSION = "session"
SIMILAR = "similar"


class ScoredItem(BaseModel):
    item_id: str = Field(description="Product id, as in the event data (`ecom.nm`).")
    score: float = Field(
        description="The model's score; higher is better, comparable within one list."
    )
    reason: str | None = Field(
        None,
        description="Why it is shown, `code` or `code:about`: the stored list's own reason, or "
        "`viewed_today:<item>` / `similar_to:<item>` when today's events put it there "
        "(`/recommendations` only; null when unknown).",
    )


class RankedList(BaseModel):
    items: list[ScoredItem] = Field(description="Best first.")
    model_version: str = Field(description="The published model version that answered.")
    source: str = Field(
        description="`personal` or `similar` when the product's own stored list answered, "
        "`session` when a shopper with no stored list has recent events, otherwise the name of "
        "the fallback list that did (`popular`, …)."
    )
    fallback_items: int = Field(
        0,
        description="How many items at the end were topped up from the fallback list because the "
        "stored list ran short after exclusions.",
    )


class Recommendations(RankedList):
    user_id: str


class SimilarItems(RankedList):
    item_id: str


class ModelInfo(BaseModel):
    version: str
    published_at: datetime | None = Field(description="When the trainer activated this version.")
    trained_at: datetime | None = Field(description="When the model was trained.")
    top_k: int = Field(description="Products stored per user: the largest `k` of /recommendations.")
    similar_k: int = Field(description="Products stored per product: the largest `k` of /similar.")
    fallback_k: int = Field(description="Length of the fallback list: the largest `k` of /popular.")
    fallbacks: list[str] = Field(description="Names of the fallback lists for unknown users.")
    data: dict[str, Any] = Field(description="What it was trained on: time range, counts, sources.")
    metrics: dict[str, Any] = Field(description="Its offline evaluation metrics (NDCG@10, …).")
    meta: dict[str, Any] = Field(description="Every metadata field the trainer published.")


class Health(BaseModel):
    status: str = Field("ok", description="Always `ok` while the process serves requests.")


class Readiness(BaseModel):
    ready: bool
    model_version: str | None = Field(description="The active version, when there is one.")
    reason: str | None = Field(None, description="Why the service is not ready.")


class ErrorMessage(BaseModel):
    detail: str = Field(description="What went wrong, in words.")


class EventIn(BaseModel):
    """One shopper event; exactly one of `user_id` (a customer) or `visitor_id` (anonymous)."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = None
    visitor_id: str | None = None
    item_id: str
    event_type: EventType
    time: AwareDatetime = Field(
        description="When it happened: ISO 8601 with a zone, or unix seconds."
    )

    @field_validator("user_id", "visitor_id", "item_id")
    @classmethod
    def _follows_id_rule(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_id(value):
            raise ValueError(f"an id is {ID_RULE}")
        return value

    @model_validator(mode="after")
    def _one_shopper(self) -> "EventIn":
        if (self.user_id is None) == (self.visitor_id is None):
            raise ValueError("give exactly one of user_id and visitor_id")
        return self


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class EventsAccepted(BaseModel):
    accepted: int = Field(description="How many events were stored.")
