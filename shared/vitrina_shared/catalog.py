"""The catalog reader: `items.csv` (nm,title[,category],price100[,image_url]) names products."""

from pathlib import Path

import pandas as pd

from vitrina_shared.schema import ItemColumns

OUTPUT_COLUMNS = ("item_id", "title", "category", "price100", "image_url")


class CatalogReadError(ValueError):
    """The catalog cannot be read; the message names the file and what is wrong."""


def read_items(path: str | Path) -> pd.DataFrame:
    """Products with columns item_id, title, category, price100 (kopecks), image_url.

    Rows without an id or with a non-positive price are skipped; a repeated id keeps its last row.
    The count of skipped rows by reason is in `frame.attrs["skipped"]`. Extra columns are kept.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogReadError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise CatalogReadError(f"{path}: the file is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CatalogReadError(f"{path}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ItemColumns.REQUIRED if c not in raw.columns]
    if missing:
        raise CatalogReadError(f"{path}: missing required column {', '.join(map(repr, missing))}")

    items = raw.rename(columns={ItemColumns.ITEM: "item_id"})
    items["item_id"] = items["item_id"].str.strip()
    price = pd.to_numeric(items[ItemColumns.PRICE], errors="coerce")
    no_id = items["item_id"].isna() | (items["item_id"] == "")
    bad_price = ~no_id & ~(price > 0)
    duplicate = ~no_id & ~bad_price & items["item_id"].duplicated(keep="last")
    skipped = {
        "missing item id (nm)": int(no_id.sum()),
        "missing, non-numeric or non-positive price100": int(bad_price.sum()),
        "duplicate item id": int(duplicate.sum()),
    }
    keep = ~(no_id | bad_price | duplicate)
    items = items[keep].copy()
    items[ItemColumns.PRICE] = price[keep].round().astype("int64")
    items[ItemColumns.TITLE] = items[ItemColumns.TITLE].fillna("").str.strip()
    for optional in (ItemColumns.CATEGORY, ItemColumns.IMAGE_URL):
        items[optional] = items[optional].fillna("") if optional in items else ""
    extras = [c for c in items.columns if c not in OUTPUT_COLUMNS]
    items = items[[*OUTPUT_COLUMNS, *extras]].reset_index(drop=True)
    items.attrs["skipped"] = {reason: n for reason, n in skipped.items() if n}
    return items
