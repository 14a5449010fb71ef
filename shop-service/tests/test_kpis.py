import json
import re
from datetime import timedelta

import pandas as pd

from vitrina_shop import commands, experiments, kpis
from vitrina_shop.db import session_scope
from vitrina_shop.experiments import VariantSpec

AB = [VariantSpec("control", "control", 50), VariantSpec("personal", "active", 50)]
REF = re.compile(r'href="(/product/A2\?r=[^"]+)"')


def test_a_purchase_is_attributed_to_the_last_click_within_the_window():
    t = pd.Timestamp("2024-01-02 12:00", tz="UTC")
    clicks = pd.DataFrame(
        {
            "visitor": ["v1", "v1", "v2"],
            "product": ["A", "B", "A"],
            "time": [t - timedelta(hours=30), t - timedelta(hours=2), t + timedelta(hours=1)],
        }
    )
    bought = pd.DataFrame(
        {"visitor": ["v1", "v1", "v2", "v3"], "product": ["A", "B", "A", "A"], "time": [t] * 4}
    )
    # A: clicked 30 h before (outside 24 h); B: 2 h before; v2 clicked only after; v3 never.
    flags = kpis.attributed(bought, clicks.sort_values("time"), timedelta(hours=24))
    assert flags.tolist() == [False, True, False, False]
    assert kpis.attributed(bought, clicks, timedelta(hours=48)).tolist() == [
        True,
        True,
        False,
        False,
    ]


def _salt_splitting(users):
    return next(
        s
        for s in map(str, range(200))
        if [experiments.bucket(s, u, [50, 50]) for u in users] == [1, 0]
    )


def test_report_counts_what_each_variant_did(app, fake_reco, shopper, capsys):
    fake_reco.answer("/recommendations/u1", ["A2", "B1"])
    fake_reco.answer("/popular", ["B1", "A1"], source="popular")
    salt = _salt_splitting(["u1", "u2"])  # u1 personal, u2 control
    with session_scope(app) as db:
        experiments.create(db, "ab", AB, salt=salt)
    shopper.browse_as("u1")
    page = shopper.client.get("/").get_data(as_text=True)
    shopper.client.get(REF.search(page).group(1))
    shopper.add_to_cart("A2")
    shopper.checkout()
    shopper.logout()
    shopper.browse_as("u2")
    shopper.client.get("/")
    app.extensions["vitrina_exposure"].flush()

    assert (
        commands.run(
            app,
            commands.argparse.Namespace(
                command="experiments", action="report", name="ab", json=True
            ),
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(report) == ["experiment", "srm_p", "variants"]
    control, personal = report["variants"]
    assert list(control) == [
        "name",
        "control",
        "visitors",
        "orders",
        "conversion",
        "revenue_per_visitor",
        "average_order_value",
        "ctr",
    ]
    assert (control["name"], control["control"], control["visitors"], control["orders"]) == (
        "control",
        True,
        1,
        0,
    )
    assert (personal["visitors"], personal["orders"]) == (1, 1)
    assert personal["conversion"]["value"] == 1.0
    assert personal["revenue_per_visitor"]["value"] == 599.5
    assert list(personal["lift"]) == ["conversion", "revenue_per_visitor"]
    assert list(personal["lift"]["conversion"]) == ["value", "ci_low", "ci_high", "p"]
    assert report["srm_p"] == 1.0

    with session_scope(app) as db:
        full = kpis.report(db, "ab", timedelta(hours=24))
    shown = {v.name: v for v in full.variants}
    assert shown["personal"].attributed_revenue_share.value == 1.0
    assert shown["personal"].attributed_carts == 1
    assert shown["personal"].ctr.value == 1 / 3  # home: two blocks, one clicked; similar: none
    assert shown["control"].ctr.value == 0.0
    assert "experiment ab: SRM p=1" in commands.format_table(full)
