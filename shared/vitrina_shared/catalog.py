"""The catalog reader: `items.csv` (nm,title[,category],price100[,image_url]) names products."""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from vitrina_shared.events import CSV_BLOCK_BYTES
from vitrina_shared.ids import is_valid_id
from vitrina_shared.schema import MAX_PRICE100, ItemColumns

OUTPUT_COLUMNS = ("item_id", "title", "category", "price100", "image_url")
# NUL and the other C0 controls but tab and newline: no text field of a product may hold them.
CONTROLS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

NO_ID = "missing item id (nm)"
BAD_ID = "item id breaking the id rule (1 to 128 printable characters, no space or comma)"
BAD_PRICE = f"missing, non-numeric, non-positive or over {MAX_PRICE100:,} price100"
DUPLICATE = "duplicate item id"


class CatalogReadError(ValueError):
    """The catalog cannot be read; the message names the file and what is wrong."""


def _read_text_columns(path: Path) -> pd.DataFrame:
    """Every column as text (an id like `007` stays itself), empty fields as missing.

    Arrow, not pandas' C parser: that one silently cuts a field at a NUL byte.
    """
    # Blocks as large as the event reader's: Arrow refuses a field longer than one block.
    read_options = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    names = pacsv.open_csv(path, read_options=read_options).schema.names
    table = pacsv.read_csv(
        path,
        read_options=read_options,
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    return table.to_pandas()


def read_items(path: str | Path) -> pd.DataFrame:
    """Products with columns item_id, title, category, price100 (kopecks), image_url.

    Rows without an id, with an id breaking `vitrina_shared.ids`, or with a price outside
    1 … MAX_PRICE100 are skipped; a repeated id keeps its last row; control characters (NUL …)
    are removed from the text fields. The count of skipped rows by reason is in
    `frame.attrs["skipped"]`. Extra columns are kept. A file that is not CSV (or gzip-compressed
    CSV for `.gz`) is a `CatalogReadError` naming it.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogReadError(f"{path}: no such file")
    try:
        raw = _read_text_columns(path)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise CatalogReadError(f"{path}: the file is empty") from exc
        raise CatalogReadError(f"{path}: not a readable CSV file ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:  # not gzip, cut short, not UTF-8 text
        raise CatalogReadError(f"{path}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ItemColumns.REQUIRED if c not in raw.columns]
    if missing:
        raise CatalogReadError(f"{path}: missing required column {', '.join(map(repr, missing))}")

    items = raw.rename(columns={ItemColumns.ITEM: "item_id"})
    items["item_id"] = items["item_id"].str.strip()
    price = pd.to_numeric(items[ItemColumns.PRICE], errors="coerce")
    no_id = items["item_id"].isna() | (items["item_id"] == "")
    bad_id = ~no_id & ~items["item_id"].map(lambda v: isinstance(v, str) and is_valid_id(v))
    bad_price = ~no_id & ~bad_id & ~((price > 0) & (price <= MAX_PRICE100))
    rest = ~(no_id | bad_id | bad_price)
    duplicate = rest & items["item_id"].where(rest).duplicated(keep="last")
    skipped = {
        NO_ID: int(no_id.sum()),
        BAD_ID: int(bad_id.sum()),
        BAD_PRICE: int(bad_price.sum()),
        DUPLICATE: int(duplicate.sum()),
    }
    keep = rest & ~duplicate
    items = items[keep].copy()
    items[ItemColumns.PRICE] = price[keep].round().astype("int64")
    items[ItemColumns.TITLE] = items[ItemColumns.TITLE].fillna("").str.strip()
    for optional in (ItemColumns.CATEGORY, ItemColumns.IMAGE_URL):
        items[optional] = items[optional].fillna("") if optional in items else ""
    for text in (ItemColumns.TITLE, ItemColumns.CATEGORY, ItemColumns.IMAGE_URL):
        items[text] = items[text].str.replace(CONTROLS, "", regex=True)
    extras = [c for c in items.columns if c not in OUTPUT_COLUMNS]
    items = items[[*OUTPUT_COLUMNS, *extras]].reset_index(drop=True)
    items.attrs["skipped"] = {reason: n for reason, n in skipped.items() if n}
    return items
