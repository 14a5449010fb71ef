"""The trainer's expected failures: the CLI prints their message and exits non-zero."""

import pydantic
import redis

from vitrina_shared.catalog import CatalogReadError
from vitrina_shared.events import EventReadError
from vitrina_shared.model_store import PublishError


class TrainerError(RuntimeError):
    """Bad input, too little data, an unreachable service: something the user can fix."""


# What a user can fix (bad input, settings, Redis): reported in one line, without a traceback.
EXPECTED_ERRORS = (
    TrainerError,
    EventReadError,
    CatalogReadError,
    PublishError,
    redis.RedisError,
    pydantic.ValidationError,
    FileNotFoundError,
)
