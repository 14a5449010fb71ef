import json
import re

import pandas as pd
import pytest

from vitrina_shared.events import MISSING_USER, clean_events
from vitrina_trainer.eda import explore, long_tail, quality, write_eda

RAW = pd.DataFrame(
    [
        ("Site", "2024-01-01 10:00:00+00:00", "u1", "view_item", "100", "1", "i1"),
        ("Site", "2024-01-01 10:01:00+00:00", "u1", "add_to_cart", "100", "1", "i1"),
        ("Site", "2024-01-01 10:02:00+00:00", "u1", "purchase", "100", "2", "i1"),
        ("iOS", "2024-01-02 09:00:00+00:00", "u2", "view_item", "100", "1", "i1"),
        ("iOS", "2024-01-02 09:05:00+00:00", "u2", "view_item", "300", "1", "i2"),
        ("iOS", "2024-01-02 09:06:00+00:00", "", "view_item", "300", "1", "i2"),
    ],
    columns=[
        "platform",
        "utc_event_time",
        "user_id",
        "event_type",
        "ecom.price100",
        "ecom.qty",
        "ecom.nm",
    ],
)


@pytest.fixture
def log():
    return clean_events(RAW, source="tiny")


def test_quality_counts_skipped_rows_and_flags_missing_over_five_percent(log):
    q = quality(log)
    assert (q["rows_read"], q["events_kept"], q["rows_skipped"]) == (6, 5, 1)
    assert q["skipped"] == [{"reason": MISSING_USER, "rows": 1, "share": 1 / 6}]
    missing = {m["column"]: (m["share"], m["over_bar"]) for m in q["missing"]}
    assert missing["user_id"] == (pytest.approx(1 / 6), True)
    assert missing["ecom.nm"] == (0.0, False)
    assert missing["utc_event_date"] == (1.0, True)  # the column is absent from RAW


def test_explore_per_day_funnel_platforms_tails_prices(log):
    summary = explore(log.events)
    assert summary["counts"] == {"events": 5, "users": 2, "items": 2}
    assert summary["span"]["days"] == 2
    assert summary["events_per_day"] == [
        {"date": "2024-01-01", "view_item": 1, "add_to_cart": 1, "purchase": 1},
        {"date": "2024-01-02", "view_item": 2, "add_to_cart": 0, "purchase": 0},
    ]
    assert [(f["event_type"], f["events"], f["users"]) for f in summary["funnel"]] == [
        ("view_item", 3, 2),
        ("add_to_cart", 1, 1),
        ("purchase", 1, 1),
    ]
    assert summary["funnel"][2]["users_share_of_viewers"] == 0.5
    assert {p["platform"]: p["share"] for p in summary["platforms"]} == {"Site": 0.6, "iOS": 0.4}
    assert summary["item_popularity"]["max"] == 4
    assert summary["prices"]["revenue100"] == 200
    assert summary["prices"]["median_by_event_type"]["view_item"] == 100


def test_long_tail_shares():
    tail = long_tail(pd.Series([1, 1, 2, 6]))
    assert tail["entities"] == 4 and tail["max"] == 6 and tail["with_one_event"] == 2
    assert tail["top_share"]["top 1%"] == 0.6
    assert tail["quantiles"]["p50"] == 1.5


def test_write_eda_produces_html_with_figures_and_json(log, tmp_path):
    html_path, json_path = write_eda(log, tmp_path / "out")
    page = html_path.read_text()
    assert len(re.findall(r'<img alt="[^"]*" src="data:image/png;base64,', page)) == 6
    assert '<tr class="flag"><td class="text">user_id</td>' in page
    summary = json.loads(json_path.read_text())
    assert summary["quality"]["rows_read"] == 6 and summary["counts"]["events"] == 5
