"""The event schema of the marketplace export, and the column names every frame in Vitrina uses."""

from enum import StrEnum
from typing import ClassVar


class Raw:
    """Column names exactly as the marketplace export writes them."""

    PLATFORM = "platform"
    EVENT_TIME = "utc_event_time"
    EVENT_DATE = "utc_event_date"
    USER_ID = "user_id"
    EVENT_TYPE = "event_type"
    PRICE100 = "ecom.price100"
    QTY = "ecom.qty"
    ITEM_ID = "ecom.nm"

    REQUIRED = (EVENT_TIME, USER_ID, EVENT_TYPE, PRICE100, QTY, ITEM_ID)
    ALL = (PLATFORM, EVENT_TIME, EVENT_DATE, USER_ID, EVENT_TYPE, PRICE100, QTY, ITEM_ID)


class Columns:
    """Columns of the reader's event frame and of the models' rankings (RecTools' names).

    A ranking has USER (or, item to item, TARGET_ITEM: the product asked about), ITEM, SCORE and
    RANK (1 = best); a published one also REASON (`reasons.Reason` text).
    """

    USER = "user_id"
    ITEM = "item_id"
    TARGET_ITEM = "target_item_id"
    DATETIME = "datetime"
    WEIGHT = "weight"
    EVENT = "event_type"
    PLATFORM = "platform"
    PRICE = "price100"
    QTY = "qty"
    SCORE = "score"
    RANK = "rank"
    REASON = "reason"


class ItemColumns:
    """Columns of the catalog file `items.csv`."""

    ITEM = "nm"
    TITLE = "title"
    CATEGORY = "category"
    PRICE = "price100"
    IMAGE_URL = "image_url"

    REQUIRED = (ITEM, TITLE, PRICE)


class EventType(StrEnum):
    VIEW = "view_item"
    CART = "add_to_cart"
    PURCHASE = "purchase"


EVENT_TYPES = tuple(e.value for e in EventType)

# The documented range of a price (× 100, minor units) and a quantity: larger ones are data errors
# (a price of 10^30 would overflow int64), and within it price × quantity always fits in int64.
MAX_PRICE100 = 10**12
MAX_QTY = 10**6
EXPORT_PREFIX = "ec."
PLATFORMS = ("Android", "iOS", "Site")


class ShopEventLog:
    """The shop's event-log table: the export's columns under SQL-friendly names.

    The shop writes it; `vitrina-trainer run --shop-db URL` reads it back into the export's schema.
    """

    TABLE = "events"
    COLUMNS: ClassVar[dict[str, str]] = {
        Raw.PLATFORM: "platform",
        Raw.EVENT_TIME: "utc_event_time",
        Raw.EVENT_DATE: "utc_event_date",
        Raw.USER_ID: "user_id",
        Raw.EVENT_TYPE: "event_type",
        Raw.PRICE100: "price100",
        Raw.QTY: "qty",
        Raw.ITEM_ID: "nm",
    }
