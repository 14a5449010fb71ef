import base64
import re

import pandas as pd
import pytest

from vitrina_trainer.report import HtmlReport, new_figure


def test_report_is_self_contained_with_tables_and_figures(tmp_path):
    figure, ax = new_figure()
    ax.plot([1, 2, 3], [3, 1, 2])
    report = HtmlReport("Quality <of> data", subtitle="events.csv")
    report.section("Missing values").text("share per column")
    report.table(
        pd.DataFrame({"column": ["user_id", "price"], "missing": [0.2, 0.01]}),
        flagged=[True, False],
    )
    report.figure(figure, caption="a line")
    page = report.write(tmp_path / "r" / "report.html").read_text()

    assert "<title>Quality &lt;of&gt; data</title>" in page
    assert '<tr class="flag"><td class="text">user_id</td><td class="num">0.2000</td></tr>' in page
    assert '<tr><td class="text">price</td><td class="num">0.0100</td></tr>' in page
    assert report.figures == 1
    (png,) = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert "http" not in page.replace("http-equiv", "")


def test_table_from_rows_formats_integers_and_hides_nan():
    page = HtmlReport("t").table([{"n": 1234567, "x": float("nan")}]).render()
    assert '<td class="num">1,234,567</td><td class="num"></td>' in page


def test_table_refuses_wrong_number_of_flags():
    with pytest.raises(ValueError, match="1 flags for 2 rows"):
        HtmlReport("t").table([{"a": 1}, {"a": 2}], flagged=[True])
