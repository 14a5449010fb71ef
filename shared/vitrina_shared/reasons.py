"""Why a product is recommended: the short machine-readable reason published with each product.

A reason is a code, optionally followed by `:` and what it is about: `bought_before`,
`viewed_before`, `similar_to:<item id>` (the product of the customer's history it is most
similar to), `popular_in_category:<category>`, `popular`. Codes never hold a `:`, so the text
after the first one is the subject whole, whatever it holds.
"""

from dataclasses import dataclass
from enum import StrEnum


class ReasonCode(StrEnum):
    BOUGHT_BEFORE = "bought_before"
    VIEWED_BEFORE = "viewed_before"
    SIMILAR_TO = "similar_to"
    POPULAR_IN_CATEGORY = "popular_in_category"
    POPULAR = "popular"


SEPARATOR = ":"


@dataclass(frozen=True)
class Reason:
    code: str
    about: str = ""

    def __str__(self) -> str:
        return f"{self.code}{SEPARATOR}{self.about}" if self.about else self.code


def parse_reason(text: str) -> Reason:
    """`similar_to:p12` → Reason("similar_to", "p12"); unknown codes are kept as they are."""
    code, _, about = text.partition(SEPARATOR)
    return Reason(code, about)
