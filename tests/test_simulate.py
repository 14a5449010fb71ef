"""The experiment loop end to end, as `make simulate` runs it, on a smaller scale.

Simulated shoppers (hidden tastes from the generator) visit the real shop: with the personal list
against the popular-only control, conversion and revenue per visitor rise with 95 % intervals
that exclude zero and the split is sound; with both variants the same (A/A) nothing differs.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from simulate import AA, AB, run_experiment, start_stack

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
USERS, ITEMS, VISITORS = 1500, 600, 800
SIM_ARGS = ("--data-users", str(USERS), "--data-items", str(ITEMS))
A_A_ALPHA = 0.001


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    subprocess.run(
        [
            BIN / "vitrina-trainer",
            "generate",
            "--out",
            data,
            "--users",
            str(USERS),
            "--items",
            str(ITEMS),
        ],
        check=True,
        capture_output=True,
    )
    running = start_stack(
        tmp_path_factory.mktemp("stack"), data / "events.csv.gz", data / "items.csv"
    )
    yield running
    running.stop()


def excludes_zero(interval: dict) -> bool:
    return interval["ci_low"] > 0 or interval["ci_high"] < 0


@pytest.mark.timeout(900)
def test_personal_beats_popular_and_a_over_a_shows_nothing(stack):
    table, line = run_experiment(stack, "ab", AB, VISITORS, seed=3, sim_args=SIM_ARGS)
    report = json.loads(line)
    control, personal = report["variants"]
    assert control["control"] and control["name"] == "control"
    assert control["visitors"] + personal["visitors"] == VISITORS
    assert report["srm_p"] > 0.001, table
    for kpi in ("conversion", "revenue_per_visitor"):
        assert personal["lift"][kpi]["value"] > 0 and excludes_zero(personal["lift"][kpi]), table

    table, line = run_experiment(stack, "aa", AA, VISITORS, seed=4, sim_args=SIM_ARGS)
    report = json.loads(line)
    assert report["srm_p"] > 0.001, table
    b = report["variants"][1]
    # Two equal variants: at 95 % an A/A "finds" a difference in one run of 20 per KPI (this one
    # once showed conversion +7.1 pp, p = 0.04), so it is held to nothing at p < 0.001. A split
    # that favours a variant (a different list, a skewed assignment) shows p far below that.
    for kpi in ("conversion", "revenue_per_visitor"):
        assert b["lift"][kpi]["p"] > A_A_ALPHA, table
