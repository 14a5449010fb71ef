"""The synthetic data generator: determinism, the export's shape and proportions, learnability."""

import gzip
import re

import numpy as np
import pandas as pd
import pytest
from rectools import Columns as RecColumns
from rectools.metrics import NDCG

from vitrina_shared.catalog import read_items
from vitrina_shared.events import read_events
from vitrina_shared.schema import EVENT_TYPES, PLATFORMS, Columns, EventType, Raw
from vitrina_trainer.errors import TrainerError
from vitrina_trainer.generator.synthetic import (
    CART,
    EVENTS_FILE,
    ITEMS_COLUMNS,
    ITEMS_FILE,
    PURCHASE,
    VIEW,
    GeneratorConfig,
    _first_of_each_moment,
    generate,
    write_dataset,
)

SMALL = GeneratorConfig(users=300, items=150, seed=1)


@pytest.fixture(scope="module")
def data():
    """The default size: what `make demo` trains on."""
    return generate(GeneratorConfig())


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    summary = write_dataset(SMALL, out)
    return out, summary


@pytest.fixture(scope="module")
def raw_written(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw")
    write_dataset(SMALL, out, raw_export=True)
    return out


def _bytes(folder):
    return (folder / EVENTS_FILE).read_bytes(), (folder / ITEMS_FILE).read_bytes()


def test_same_seed_writes_the_same_bytes(tmp_path, written):
    write_dataset(SMALL, tmp_path / "again")
    write_dataset(GeneratorConfig(users=300, items=150, seed=2), tmp_path / "other")
    assert _bytes(tmp_path / "again") == _bytes(written[0])
    other = _bytes(tmp_path / "other")
    assert other[0] != _bytes(written[0])[0]
    assert other[1] != _bytes(written[0])[1]


def test_header_is_exactly_the_export_schema(written):
    with gzip.open(written[0] / EVENTS_FILE, "rt") as lines:
        header = next(lines).strip()
    assert header.split(",") == list(Raw.ALL)


def test_platform_and_funnel_shares_match_the_export(data):
    events = data.events
    platforms = np.bincount(events.platform, minlength=3) / len(events)
    funnel = np.bincount(events.event, minlength=3) / len(events)
    assert platforms == pytest.approx([0.60, 0.25, 0.15], abs=0.02)
    assert funnel == pytest.approx([0.92, 0.065, 0.015], abs=0.003)


def test_default_size_is_a_few_hundred_thousand_events(data):
    assert 200_000 <= len(data.events) <= 500_000
    assert len(np.unique(data.events.user)) == 5_000


def test_events_fill_the_window_in_time_order(data):
    seconds = data.events.seconds
    assert (np.diff(seconds) >= 0).all()
    days = np.unique(seconds // 86_400)
    assert days.tolist() == list(range(14))
    frame = data.events_frame()
    assert frame[Raw.EVENT_TIME].iloc[0].startswith("2023-07-31 ")
    assert frame[Raw.EVENT_TIME].iloc[-1].startswith("2023-08-13 ")
    assert frame[Raw.EVENT_TIME].iloc[-1].endswith("+00:00")
    assert (frame[Raw.EVENT_DATE] == frame[Raw.EVENT_TIME].str[:10]).all()


def test_start_and_days_move_the_window():
    frame = generate(GeneratorConfig(users=50, items=40, days=3, start="2024-02-28")).events_frame()
    assert sorted(frame[Raw.EVENT_DATE].unique()) == ["2024-02-28", "2024-02-29", "2024-03-01"]


def test_ids_look_like_the_exports(data):
    frame = data.events_frame()
    users = pd.Series(frame[Raw.USER_ID].unique())
    assert users.str.fullmatch(r"[1-9]\d{29,38}").all()
    assert len(users) == 5_000
    assert frame[Raw.ITEM_ID].str.fullmatch(r"\d{8}").all()


def test_prices_are_whole_roubles_in_kopecks_discounted_at_most_30_percent(data):
    events, catalog = data.events, data.catalog
    listed = catalog.price100[events.item]
    assert (events.price100 % 100 == 0).all()
    assert (events.price100 > 0).all()
    assert (events.price100 <= listed).all()
    assert (events.price100 >= 0.69 * listed).all()
    assert 0.005 < (events.price100 < listed).mean() < 0.5
    assert set(np.unique(events.qty[events.event == VIEW]).tolist()) == {1}
    assert events.qty.max() > 1


def test_views_lead_to_carts_lead_to_purchases_of_the_same_product(data):
    events = data.events
    frame = pd.DataFrame({"user": events.user, "item": events.item, "t": events.seconds})
    first = [
        frame[events.event == code].groupby(["user", "item"])["t"].min()
        for code in (VIEW, CART, PURCHASE)
    ]
    view, cart, purchase = first
    assert cart.index.isin(view.index).all()
    assert purchase.index.isin(cart.index).all()
    assert (cart >= view.reindex(cart.index)).all()
    assert (purchase >= cart.reindex(purchase.index)).all()


def test_no_two_rows_share_customer_product_type_and_second(data):
    events = data.events
    frame = pd.DataFrame(
        {"s": events.seconds, "u": events.user, "e": events.event, "i": events.item}
    )
    assert not frame.duplicated().any()


def test_first_of_each_moment_drops_only_repeats_of_one_customer():
    seconds = np.array([5, 5, 5, 5, 5, 6])
    user = np.array([1, 1, 1, 1, 2, 1])
    event = np.array([0, 0, 0, 2, 0, 0])
    item = np.array([7, 8, 7, 7, 7, 7])
    keep = _first_of_each_moment(seconds, user, event, item)
    assert keep.tolist() == [True, True, False, True, True, True]


def test_customers_buy_again_what_they_bought_before(data):
    events = data.events
    bought = pd.DataFrame({"user": events.user, "item": events.item})[events.event == PURCHASE]
    repeats = bought.duplicated().mean()
    assert repeats > 0.1


def test_popularity_has_a_long_tail(data):
    counts = np.sort(np.bincount(data.events.item, minlength=2_000))[::-1]
    top_tenth = counts[:200].sum() / counts.sum()
    assert top_tenth > 0.35
    assert (counts > 0).mean() > 0.8


def test_items_csv_names_every_product_of_the_events(written):
    out, summary = written
    items = read_items(out / ITEMS_FILE)
    events = read_events(out / EVENTS_FILE).events
    assert tuple(pd.read_csv(out / ITEMS_FILE, nrows=0).columns) == ITEMS_COLUMNS
    assert len(items) == SMALL.items
    assert items.attrs["skipped"] == {}
    assert set(events[Columns.ITEM].astype(str)) <= set(items["item_id"])
    assert (items["title"].str.split().str.len() >= 3).all()
    assert items["category"].ne("").all()
    assert items["sub_category"].ne("").all()
    assert summary.events == len(events)


def test_fewer_products_than_subcategories_still_works():
    data = generate(GeneratorConfig(users=20, items=5, days=2))
    assert set(np.unique(data.events.item).tolist()) <= set(range(5))
    assert len(data.catalog.frame()) == 5


def test_reads_back_clean(written):
    log = read_events(written[0] / EVENTS_FILE)
    assert log.rows_skipped == 0
    assert log.rows_read == written[1].rows
    assert set(log.events[Columns.EVENT].astype(str)) == set(EVENT_TYPES)
    assert set(log.events[Columns.PLATFORM].astype(str)) == set(PLATFORMS)


def test_raw_export_has_lists_and_prefixes_and_reads_back_to_the_same_events(written, raw_written):
    with gzip.open(raw_written / EVENTS_FILE, "rt") as lines:
        text = lines.read()
    assert '"ec.view_item"' in text
    assert '"ec.purchase"' in text
    assert ",view_item," not in text
    assert re.search(r'"ec.purchase","\[\d+, \d+[^"]*\]","\[\d+, \d+[^"]*\]","\[\d+, \d+', text)
    header = text.split("\n", 1)[0].split(",")
    assert header == [*Raw.ALL, "main_category", "sub_category"]

    raw = read_events(raw_written / EVENTS_FILE)
    plain = read_events(written[0] / EVENTS_FILE)
    assert raw.rows_skipped == 0
    assert raw.rows_read < plain.rows_read  # several products in one row
    pd.testing.assert_frame_equal(
        raw.events.astype(dict.fromkeys((Columns.USER, Columns.ITEM), str)),
        plain.events.astype(dict.fromkeys((Columns.USER, Columns.ITEM), str)),
        check_categorical=False,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("users", 0), ("items", 0), ("days", 0), ("days", 10_000), ("sessions_per_day", 0.0)],
)
def test_config_refuses_sizes_out_of_range(field, value):
    with pytest.raises(TrainerError, match=field):
        GeneratorConfig(**{field: value})


def test_config_refuses_a_bad_start():
    with pytest.raises(TrainerError, match="start"):
        GeneratorConfig(start="31.07.2023")


def test_a_personal_model_beats_popular():
    """The design doc's protocol: cut at the 0.9 time quantile, 10 products for returning users."""
    events = generate(GeneratorConfig(users=1_000, items=400, seed=11)).events
    frame = pd.DataFrame(
        {
            RecColumns.User: events.user,
            RecColumns.Item: events.item,
            RecColumns.Datetime: events.seconds,
        }
    )
    cut = frame[RecColumns.Datetime].quantile(0.9)
    train = frame[frame[RecColumns.Datetime] < cut]
    test = frame[frame[RecColumns.Datetime] >= cut]
    users = np.intersect1d(train[RecColumns.User].unique(), test[RecColumns.User].unique())
    test = test[test[RecColumns.User].isin(users)]
    test = test.drop_duplicates([RecColumns.User, RecColumns.Item])

    top = train[RecColumns.Item].value_counts().index[:10].to_numpy()
    popular = pd.DataFrame(
        {
            RecColumns.User: np.repeat(users, 10),
            RecColumns.Item: np.tile(top, len(users)),
            RecColumns.Rank: np.tile(np.arange(1, 11), len(users)),
        }
    )
    # The customer's own history: what they looked at most often, most often first.
    seen = train[train[RecColumns.User].isin(users)]
    own = seen.groupby([RecColumns.User, RecColumns.Item]).size().rename("n").reset_index()
    own = own.sort_values([RecColumns.User, "n"], ascending=[True, False], kind="stable")
    own[RecColumns.Rank] = own.groupby(RecColumns.User).cumcount() + 1
    own = own[own[RecColumns.Rank] <= 10]

    ndcg = NDCG(k=10)
    popular_score, own_score = ndcg.calc(popular, test), ndcg.calc(own, test)
    assert own_score > 3 * popular_score, (own_score, popular_score)
    assert own_score > 0.1


def test_event_codes_follow_the_schema():
    assert [EVENT_TYPES[code] for code in (VIEW, CART, PURCHASE)] == list(EventType)


def test_summary_says_what_was_written(written):
    out, summary = written
    text = str(summary)
    assert f"wrote {summary.events:,} events" in text
    assert "2023-07-31 … 2023-08-13" in text
    assert "view_item 9" in text and "Android" in text
    assert str(out / EVENTS_FILE) in text
