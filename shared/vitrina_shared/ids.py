"""The one rule for customer and product ids, shared by the reader, reco-service and the shop.

Ids are strings as the export writes them (never numbers). An id that breaks this rule is skipped
by the reader, refused with a 4xx by reco-service and never stored by the shop, so every part
agrees on which ids exist.
"""

MAX_ID_LENGTH = 128
# Commas separate ids in lists (`exclude=a,b`, bracketed export lists), so no id can hold one.
ID_SEPARATOR = ","
# The most ids one request may exclude: reco-service refuses more, the shop sends no more.
MAX_EXCLUDE = 500


def is_valid_id(value: str) -> bool:
    """1 to MAX_ID_LENGTH printable characters, none of them whitespace or a comma.

    `str.isprintable` refuses every Unicode control, format and separator character
    (U+0085, U+2028, U+200B, U+202E …) as well as NUL and the other ASCII controls.
    """
    return (
        0 < len(value) <= MAX_ID_LENGTH
        and value.isprintable()
        and " " not in value
        and ID_SEPARATOR not in value
    )
