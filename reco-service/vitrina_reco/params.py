"""Request parameters shared by the endpoints, with the limits that keep bad input a clear 4xx."""

from typing import Annotated

from fastapi import HTTPException, Path, Query

MAX_ID_LENGTH = 128
MAX_K = 1000
MAX_EXCLUDE = 500
# Any characters but control characters, spaces and commas (commas separate ids in `exclude`).
ID_PATTERN = r"^[^\x00-\x20\x7f,]+$"

UserId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=ID_PATTERN,
        description="Customer id as in the event data: a string, never parsed as a number.",
    ),
]
ItemId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=ID_PATTERN,
        description="Product id as in the event data (`ecom.nm`).",
    ),
]
K = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_K,
        description="How many products to return; at most the length of the lists the model "
        "stored (`top_k`, `similar_k`, `fallback_k` of `GET /model`).",
    ),
]
Exclude = Annotated[
    list[str],
    Query(
        max_length=MAX_EXCLUDE,
        description="Product ids to leave out (e.g. what is in the cart): the parameter repeated, "
        f"or ids separated by commas; at most {MAX_EXCLUDE} ids.",
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
        if len(item) > MAX_ID_LENGTH:
            raise unprocessable(f"exclude: an id is longer than {MAX_ID_LENGTH} characters")
        if not item.isprintable() or " " in item:
            raise unprocessable(f"exclude: id {item!r} contains spaces or control characters")
    return frozenset(ids)


def check_k(k: int, stored: int, lists: str, version: str) -> None:
    """Refuse a `k` longer than the lists the model stored: the answer could never have k items."""
    if k > stored:
        raise unprocessable(
            f"k={k} is above the {stored} products stored per {lists} by model version {version}"
        )
