"""Self-contained HTML reports: sections of text, tables and matplotlib figures inlined as PNG.

One file, no external assets, so a report can be mailed or opened from a model folder as is.
Figures are built with `new_figure` (the Agg canvas, no pyplot state, safe without a display).
"""

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
tr.flag td { background: #fde8e8; }
figure { margin: .5rem 0 1.5rem; } figcaption { color: #555; font-size: .9rem; }
img { max-width: 100%; } .meta { color: #666; }
"""


def new_figure(width: float = 7.0, height: float = 3.5) -> tuple[Figure, Axes]:
    """A figure on the Agg canvas and its single axes."""
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def figure_png(figure: Figure, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return f"{value:,.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{value:,}"
    return html.escape(str(value))


class HtmlReport:
    """Build with `section`/`text`/`table`/`figure` in reading order, then `write` or `render`."""

    def __init__(self, title: str, subtitle: str | None = None):
        self.title = title
        self.subtitle = subtitle
        self.parts: list[str] = []
        self.figures = 0

    def section(self, heading: str) -> "HtmlReport":
        self.parts.append(f"<h2>{html.escape(heading)}</h2>")
        return self

    def text(self, paragraph: str) -> "HtmlReport":
        self.parts.append(f"<p>{html.escape(paragraph)}</p>")
        return self

    def table(
        self,
        rows: pd.DataFrame | Sequence[Mapping[str, Any]],
        caption: str | None = None,
        flagged: Iterable[bool] | None = None,
    ) -> "HtmlReport":
        """A table from a frame (its index is shown when named) or from a list of dict rows.

        `flagged` marks rows to highlight, one boolean per row (e.g. a value over a bar).
        """
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        if frame.index.name is not None or isinstance(frame.index, pd.MultiIndex):
            frame = frame.reset_index()
        flags = list(flagged) if flagged is not None else [False] * len(frame)
        if len(flags) != len(frame):
            raise ValueError(f"{len(flags)} flags for {len(frame)} rows")
        text_columns = {
            c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c].dtype)
        }
        head = "".join(
            f'<th class="{"text" if c in text_columns else "num"}">{html.escape(str(c))}</th>'
            for c in frame.columns
        )
        body = []
        for flag, row in zip(flags, frame.itertuples(index=False), strict=True):
            cells = "".join(
                f'<td class="{"text" if c in text_columns else "num"}">{_cell(v)}</td>'
                for c, v in zip(frame.columns, row, strict=True)
            )
            body.append(f'<tr class="flag">{cells}</tr>' if flag else f"<tr>{cells}</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self.parts.append(
            f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        )
        return self

    def figure(self, figure: Figure, caption: str | None = None) -> "HtmlReport":
        """Embed a figure as a base64 PNG."""
        data = base64.b64encode(figure_png(figure)).decode("ascii")
        alt = html.escape(caption or f"figure {self.figures + 1}")
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(
            f'<figure><img alt="{alt}" src="data:image/png;base64,{data}">{cap}</figure>'
        )
        self.figures += 1
        return self

    def render(self) -> str:
        made = f"generated {datetime.now(UTC):%Y-%m-%d %H:%M UTC}"
        subtitle = f"<p class=meta>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        return (
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{html.escape(self.title)}</h1>{subtitle}<p class=meta>{made}</p>"
            + "\n".join(self.parts)
            + "</body></html>\n"
        )

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(), encoding="utf-8")
        return path
