"""reco-service settings: the shared ones plus the API token, the Redis time budget, the workers."""

import os

from pydantic import Field, SecretStr, field_validator, model_validator

from vitrina_shared.settings import VitrinaSettings, require_real_secret

# A production token must be at least this long: `secrets.token_urlsafe(32)` gives 43 characters.
MIN_TOKEN_LENGTH = 32


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers narrow)."""
    return len(os.sched_getaffinity(0))


class RecoSettings(VitrinaSettings):
    """Read from the environment; the address is given by `vitrina-reco --host/--port`."""

    api_token: SecretStr | None = Field(
        None,
        validation_alias="RECO_API_TOKEN",
        description="Bearer token of every endpoint but health, readiness, docs; unset = no auth "
        f"(development only: production requires {MIN_TOKEN_LENGTH}+ characters).",
    )
    redis_timeout_ms: int = Field(
        250,
        validation_alias="RECO_REDIS_TIMEOUT_MS",
        ge=1,
        description="Client-side limit on every Redis call; past it the request gets a 503.",
    )
    version_ttl_seconds: float = Field(
        2.0,
        validation_alias="RECO_VERSION_TTL_SECONDS",
        ge=0,
        description="How long the active model version is cached: a new one is served within it.",
    )
    recent_events: int = Field(
        20,
        validation_alias="RECO_RECENT_EVENTS",
        ge=1,
        le=100,
        description="Recent events kept per shopper for re-ranking (the newest; older ones drop).",
    )
    recent_ttl_seconds: int = Field(
        6 * 3600,
        validation_alias="RECO_RECENT_TTL_SECONDS",
        ge=1,
        description="A shopper's recent events expire this long after their last event.",
    )
    access_log: bool = Field(True, validation_alias="RECO_ACCESS_LOG")
    workers: int = Field(
        default_factory=usable_cores,
        validation_alias="RECO_WORKERS",
        ge=1,
        description="uvicorn worker processes; default: the cores this process may use.",
    )

    @field_validator("api_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_weak_token_in_production(self) -> "RecoSettings":
        token = self.api_token.get_secret_value() if self.api_token is not None else None
        require_real_secret(self, "RECO_API_TOKEN", token)
        if self.is_production and len(token or "") < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"RECO_API_TOKEN must be at least {MIN_TOKEN_LENGTH} characters when "
                "VITRINA_ENV=production (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')"
            )
        return self

    @property
    def redis_timeout(self) -> float:
        return self.redis_timeout_ms / 1000
