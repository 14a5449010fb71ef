"""Pictures for products without an image: a small SVG per category, drawn here, served locally."""

import hashlib
from html import escape

from flask import Blueprint, Response

bp = Blueprint("images", __name__, url_prefix="/img")

# Calm colour pairs (background, foreground); a category always gets the same one.
PALETTE = (
    ("#e8f1fb", "#2f6fb3"),
    ("#fdf0e6", "#c0611b"),
    ("#eaf7ee", "#2e8a4f"),
    ("#f6ecfa", "#8a3fb0"),
    ("#fff6d9", "#a37a00"),
    ("#fbe9ec", "#b8344f"),
    ("#e7f6f6", "#23817f"),
    ("#eeeef6", "#4b4f9c"),
)


def category_label(category: str) -> str:
    """'electronics.smartphone' → 'Electronics › Smartphone'; empty → 'All products'."""
    parts = [p.replace("_", " ").strip() for p in category.split(".") if p.strip()]
    return " › ".join(p.capitalize() for p in parts) or "All products"


def placeholder_svg(category: str) -> str:
    leaf = category_label(category).split(" › ")[-1] if category else "Vitrina"
    digest = hashlib.sha1(category.encode()).digest()
    background, foreground = PALETTE[digest[0] % len(PALETTE)]
    initials = "".join(word[0] for word in leaf.split()[:2]).upper() or "V"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img" '
        f'aria-label="{escape(leaf)}">'
        f'<rect width="400" height="300" fill="{background}"/>'
        f'<circle cx="200" cy="128" r="62" fill="{foreground}" opacity="0.14"/>'
        f'<rect x="150" y="92" width="100" height="76" rx="12" fill="none" '
        f'stroke="{foreground}" stroke-width="6"/>'
        f'<path d="M170 92v-10a30 30 0 0 1 60 0v10" fill="none" stroke="{foreground}" '
        'stroke-width="6"/>'
        f'<text x="200" y="145" text-anchor="middle" font-family="sans-serif" font-size="30" '
        f'font-weight="700" fill="{foreground}">{escape(initials[:2])}</text>'
        f'<text x="200" y="236" text-anchor="middle" font-family="sans-serif" font-size="22" '
        f'fill="{foreground}">{escape(leaf[:28])}</text>'
        "</svg>"
    )


@bp.get("/placeholder/<path:category>.svg")
def placeholder(category: str) -> Response:
    category = "" if category == "_" else category
    response = Response(placeholder_svg(category), mimetype="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = 86_400
    return response
