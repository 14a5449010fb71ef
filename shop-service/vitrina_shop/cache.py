"""The one per-app cache of the shop: values kept in `app.extensions`, for a while or until full.

The navigation's categories, the popular block and the links of products and pictures use it, each
under its own name, so no request queries or builds again what a recent one already did.
"""

import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")
MAX_ENTRIES = 200_000


def remembered(name: str, key: Hashable, build: Callable[[], T], ttl_s: float | None = None) -> T:
    """`build()`'s value for `key`, kept in the app's cache `name` for `ttl_s` seconds (None: ever).

    A cache that reaches MAX_ENTRIES is emptied rather than left to grow with every id a crawler
    makes up.
    """
    cache: dict[Hashable, tuple[float, T]] = current_app.extensions.setdefault(name, {})
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and (ttl_s is None or now - hit[0] < ttl_s):
        return hit[1]
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    value = build()
    cache[key] = (now, value)
    return value
