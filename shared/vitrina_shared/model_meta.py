"""A published model version's metadata: the trainer writes it; reco-service and `status` read it.

One typed model instead of loose keys on both sides. Every field has a default, so a version
written by an older trainer (or a test) still reads; `dump` leaves out what was never set, so the
stored JSON holds exactly what its writer knew.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer


class DataSummary(BaseModel):
    """The events a version was trained on."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    first: str | None = Field(None, alias="from", description="First event time, ISO 8601.")
    last: str | None = Field(None, alias="to", description="Last event time, ISO 8601.")
    events: int = 0
    users: int = 0
    items: int = 0
    rows_read: int = 0
    rows_skipped: int = 0
    sources: list[str] = []


class Counts(BaseModel):
    """How many rankings of each kind the version holds."""

    users: int = 0
    similar: int = 0
    fallbacks: int = 0


class ModelMeta(BaseModel):
    """Stored as JSON at `{prefix}:v:{version}:meta` (see `redis_layout`)."""

    model_config = ConfigDict(extra="allow")

    trained_at: datetime | None = None
    top_k: int | None = Field(None, description="Products stored per user.")
    similar_k: int | None = Field(None, description="Products stored per product.")
    data: DataSummary = DataSummary()
    metrics: dict[str, Any] = Field({}, description="The last offline evaluation's numbers.")
    config: dict[str, Any] = Field({}, description="The recommender's configuration.")
    feature_importance: dict[str, float] = {}
    stages: list[dict[str, Any]] = Field([], description="Seconds and memory of each stage.")
    version: str | None = None
    published_at: datetime | None = None
    fallbacks: list[str] = Field([], description="Names of the fallback lists.")
    counts: Counts = Counts()

    @field_serializer("trained_at", "published_at")
    def _iso(self, moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    def dump(self) -> dict[str, Any]:
        """The JSON-ready form that is stored: field names as published, unset fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)
