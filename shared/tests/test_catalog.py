import gzip
import os
import re

import pytest

from vitrina_shared import catalog
from vitrina_shared.catalog import CatalogReadError, read_items


def test_reads_items_with_optional_columns_filled(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("nm,title,price100\n007,  Red mug ,450\n8,Blue mug,500.4\n")
    items = read_items(path)
    assert items.to_dict("records") == [
        {"item_id": "007", "title": "Red mug", "category": "", "price100": 450, "image_url": ""},
        {"item_id": "8", "title": "Blue mug", "category": "", "price100": 500, "image_url": ""},
    ]
    assert items.attrs["skipped"] == {}


def test_bad_rows_skipped_and_last_duplicate_kept(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "nm,title,category,price100,sub_category\n"
        ",No id,Home,100,Mugs\n1,Free,Home,0,Mugs\n2,Old,Home,100,Mugs\n2,New,Home,200,Mugs\n"
    )
    items = read_items(path)
    assert items[["item_id", "title", "price100", "sub_category"]].values.tolist() == [
        ["2", "New", 200, "Mugs"]
    ]
    assert items.attrs["skipped"] == {catalog.NO_ID: 1, catalog.BAD_PRICE: 1, catalog.DUPLICATE: 1}


def test_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("nm,title\n1,Mug\n")
    with pytest.raises(CatalogReadError, match=r"items\.csv: missing required column 'price100'"):
        read_items(path)


@pytest.mark.parametrize("content", [None, ""])
def test_missing_or_empty_file(tmp_path, content):
    path = tmp_path / "items.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CatalogReadError, match=r"items\.csv"):
        read_items(path)


def test_prices_beyond_the_range_and_ids_breaking_the_rule_are_skipped(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "nm,title,price100\n"
        "1,Fine,1000000000000\n2,Too dear,1000000000001\n3,Overflow,1e30\n4,Overflow,1e19\n"
        f"{'9' * 200},Long id,100\na b,Space,100\n\u202e5,Bidi,100\nx\x00y,NUL,100\n"
    )
    items = read_items(path)
    assert items[["item_id", "price100"]].values.tolist() == [["1", 10**12]]
    assert items.attrs["skipped"] == {catalog.BAD_ID: 4, catalog.BAD_PRICE: 3}


def test_control_characters_are_removed_from_titles(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("nm,title,category,price100\n1,Red\x00 mug\x1b[0m,Mu\x07gs,100\n")
    row = read_items(path).iloc[0]
    assert (row["title"], row["category"]) == ("Red mug[0m", "Mugs")


@pytest.mark.parametrize("name", ["items.csv.gz", "items.csv"])
@pytest.mark.parametrize("cut", ["garbage", "truncated"])
def test_a_garbage_or_truncated_file_is_one_clear_error(tmp_path, name, cut):
    body = gzip.compress(b"nm,title,price100\n" + b"1,Mug,100\n" * 50_000)
    path = tmp_path / name
    path.write_bytes(body[: len(body) // 2] if cut == "truncated" else os.urandom(4096))
    with pytest.raises(CatalogReadError, match=rf"{re.escape(name)}: not a readable CSV file"):
        read_items(path)


@pytest.mark.realdata
def test_real_catalogs(datasets_dir):
    retail = read_items(datasets_dir / "online-retail-2009" / "items.csv")
    assert len(retail) > 4_000 and retail["item_id"].is_unique
    rees = read_items(datasets_dir / "rees46-sample" / "items.csv")
    assert (rees["category"] != "").mean() > 0.5
