"""Response schemas: what `/docs` and `/openapi.json` promise, field by field."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

PERSONAL = "personal"
SIMILAR = "similar"


class ScoredItem(BaseModel):
    item_id: str = Field(description="Product id, as in the event data (`ecom.nm`).")
    score: float = Field(
        description="The model's score; higher is better, comparable within one list."
    )


class RankedList(BaseModel):
    items: list[ScoredItem] = Field(description="Best first.")
    model_version: str = Field(description="The published model version that answered.")
    source: str = Field(
        description="`personal` or `similar` when the product's own stored list answered, "
        "otherwise the name of the fallback list that did (`popular`, …)."
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
