"""Links to products and their pictures, remembered per app.

A page links dozens of products and `url_for` was the costliest part of rendering them.
"""

from typing import Any

from flask import current_app, url_for

EXTENSION = "vitrina_links"
MAX_REMEMBERED = 200_000


def _remembered(key: tuple[str, str], build: Any) -> str:
    cache: dict[tuple[str, str], str] = current_app.extensions.setdefault(EXTENSION, {})
    url = cache.get(key)
    if url is None:
        if len(cache) >= MAX_REMEMBERED:
            cache.clear()
        url = cache[key] = build()
    return url


def product_url(product_id: str) -> str:
    return _remembered(("p", product_id), lambda: url_for("product.detail", product_id=product_id))


def image_url(product: Any) -> str:
    """The product's own image, else a placeholder named by its category (or its title's last word.

    So an uncategorised catalog is not a wall of identical pictures).
    """
    if product.image_url:
        return product.image_url
    words = [w for w in product.title.lower().split() if w.isalpha()]
    label = product.category or (words[-1] if words else "_")
    return _remembered(("i", label), lambda: url_for("images.placeholder", category=label))
