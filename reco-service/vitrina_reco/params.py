"""Request parameters shared by the endpoints, with the limits that keep bad input a clear 4xx.

Path ids and `exclude` ids follow one rule, `vitrina_shared.ids`: the one the event reader applies,
so an id the service refuses is one no model could have stored.
"""

from typing import Annotated

from fastapi import HTTPException, Path, Query
from pydantic import AfterValidator

from vitrina_shared.ids import MAX_EXCLUDE, MAX_ID_LENGTH, is_valid_id
from vitrina_shared.redis_layout import MAX_STORED_K

ID_RULE = f"1 to {MAX_ID_LENGTH} printable characters, no whitespace or comma"
# The ASCII part of the rule, for the OpenAPI document; `_valid_id` applies all of it.
ID_PATTERN = r"^[^\x00-\x20\x7f,]+$"
SHOWN = 40  # characters of a bad id repeated in a message


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def _valid_id(value: str) -> str:
    if not is_valid_id(value):
        raise ValueError(f"an id is {ID_RULE}")
    return value


UserId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=ID_PATTERN,
        description=f"Customer id as in the event data: {ID_RULE}; never parsed as a number.",
    ),
    AfterValidator(_valid_id),
]
ItemId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=ID_PATTERN,
        description=f"Product id as in the event data (`ecom.nm`): {ID_RULE}.",
    ),
    AfterValidator(_valid_id),
]


def _valid_optional_id(value: str | None) -> str | None:
    return None if value is None else _valid_id(value)


VisitorId = Annotated[
    str | None,
    Query(
        max_length=MAX_ID_LENGTH,
        pattern=ID_PATTERN,
        description="The shopper's anonymous visitor id, as sent to `POST /events`: its recent "
        f"events re-rank the list too ({ID_RULE}).",
    ),
    AfterValidator(_valid_optional_id),
]
K = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_STORED_K,
        description="How many products to return: at most the length of the lists the active "
        "model stored (`top_k`, `similar_k`, `fallback_k` of `GET /model`; a larger `k` is a 422 "
        f"naming it), which is never above {MAX_STORED_K}.",
    ),
]
Exclude = Annotated[
    list[str],
    Query(
        max_length=MAX_EXCLUDE,
        description="Product ids to leave out (e.g. what is in the cart): the parameter repeated, "
        f"or ids separated by commas; at most {MAX_EXCLUDE} ids, each {ID_RULE}.",
    ),
]


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def parse_exclude(values: list[str]) -> frozenset[str]:
    """Split comma-separated values and refuse ids no product could have."""
    ids = [part for value in values for part in value.split(",") if part]
    if len(ids) > MAX_EXCLUDE:
        raise unprocessable(f"exclude: {len(ids)} ids given, at most {MAX_EXCLUDE} allowed")
    for item in ids:
        if not is_valid_id(item):
            raise unprocessable(f"exclude: {_shown(item)} is not an id: an id is {ID_RULE}")
    return frozenset(ids)


def check_k(k: int, stored: int, lists: str, version: str) -> None:
    """Refuse a `k` longer than the lists the model stored: the answer could never have k items."""
    if k > stored:
        raise unprocessable(
            f"k={k} is above the {stored} products stored per {lists} by model version {version}"
        )
