"""Links to products and their pictures, remembered per app.

A page links dozens of products and `url_for` was the costliest part of rendering them.
"""

from typing import Any

from flask import url_for

from vitrina_shop.cache import remembered

EXTENSION = "vitrina_links"


def product_url(product_id: str) -> str:
    return remembered(
        EXTENSION, ("p", product_id), lambda: url_for("product.detail", product_id=product_id)
    )


def image_url(product: Any) -> str:
    """The product's own image, else a placeholder named by its category or its title's last word.

    The title's word, so that an uncategorised catalog is not a wall of identical pictures.
    """
    if product.image_url:
        return product.image_url
    words = [w for w in product.title.lower().split() if w.isalpha()]
    label = product.category or (words[-1] if words else "_")
    return remembered(
        EXTENSION, ("i", label), lambda: url_for("images.placeholder", category=label)
    )
