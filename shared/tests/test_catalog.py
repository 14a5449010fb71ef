import pytest

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
    assert items.attrs["skipped"] == {
        "missing item id (nm)": 1,
        "missing, non-numeric or non-positive price100": 1,
        "duplicate item id": 1,
    }


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


@pytest.mark.realdata
def test_real_catalogs(datasets_dir):
    retail = read_items(datasets_dir / "online-retail-2009" / "items.csv")
    assert len(retail) > 4_000 and retail["item_id"].is_unique
    rees = read_items(datasets_dir / "rees46-sample" / "items.csv")
    assert (rees["category"] != "").mean() > 0.5
