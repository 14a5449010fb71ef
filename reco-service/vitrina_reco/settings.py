"""reco-service settings: the shared ones plus the API token and the Redis time budget."""

from pydantic import Field, SecretStr, field_validator, model_validator

from vitrina_shared.settings import VitrinaSettings, require_real_secret


class RecoSettings(VitrinaSettings):
    """Read from the environment; the address is given by `vitrina-reco --host/--port`."""

    api_token: SecretStr | None = Field(
        None,
        validation_alias="RECO_API_TOKEN",
        description="Bearer token of every endpoint but health, readiness, docs; unset = no auth.",
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
    access_log: bool = Field(True, validation_alias="RECO_ACCESS_LOG")

    @field_validator("api_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _refuse_placeholder_token(self) -> "RecoSettings":
        if self.api_token is not None:
            require_real_secret(self, "RECO_API_TOKEN", self.api_token.get_secret_value())
        return self

    @property
    def redis_timeout(self) -> float:
        return self.redis_timeout_ms / 1000
