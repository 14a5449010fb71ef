"""The settings pattern: each package subclasses `VitrinaSettings` once; values come from env."""

from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "dev", "development", "secret"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class VitrinaSettings(BaseSettings):
    """Settings every part reads. Flags of the console scripts override them where both exist."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        validation_alias="VITRINA_ENV",
        description="`production` refuses placeholder secrets.",
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
    redis_cluster: bool = Field(
        False,
        validation_alias="REDIS_CLUSTER",
        description="`true`: REDIS_URL names a node of a Redis Cluster (the others are found).",
    )
    redis_prefix: str = Field(
        "vitrina", validation_alias="REDIS_PREFIX", description="Prefix of every Redis key."
    )
    data_dir: Path = Field(Path("data"), validation_alias="DATA_DIR")

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


def require_real_secret(settings: VitrinaSettings, name: str, value: str | None) -> None:
    """Refuse a missing or placeholder secret outside development, naming the variable."""
    if settings.is_production and (value is None or value.strip().lower() in PLACEHOLDER_SECRETS):
        raise ValueError(f"{name} must be set to a real secret when VITRINA_ENV=production")


def hide_password(url: str) -> str:
    """The URL with its password replaced by ***, for messages, logs and metadata."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparsable URL>"


def settings_problem(exc: ValidationError) -> str:
    """A settings error as one log line, `NAME: what is wrong; …`, no pydantic boilerplate."""
    parts = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


__all__ = [
    "Environment",
    "VitrinaSettings",
    "hide_password",
    "require_real_secret",
    "settings_problem",
]
