"""Server-rendered SVG line charts for the dashboard: no chart library, nothing from a CDN."""

import math
from dataclasses import dataclass

import pandas as pd

WIDTH, HEIGHT, PAD = 560, 220, 40
COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea")


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    points: str  # the polyline's "x,y x,y …"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    y_max_label: str
    start_label: str
    end_label: str


def lines(timeline: pd.DataFrame, column: str, percent: bool = False) -> Chart | None:
    """One line per variant of `column` over time; None when there is nothing to draw."""
    data = timeline.dropna(subset=[column])
    if data.empty:
        return None
    top = float(data[column].max()) or 1.0
    start, end = data["time"].min(), data["time"].max()
    span = (end - start).total_seconds() or 1.0

    def x(t: pd.Timestamp) -> float:
        return PAD + (t - start).total_seconds() / span * (WIDTH - 2 * PAD)

    def y(value: float) -> float:
        return HEIGHT - PAD - value / top * (HEIGHT - 2 * PAD)

    series = []
    for index, (variant, rows) in enumerate(data.groupby("variant", sort=False)):
        points = " ".join(
            f"{x(t):.1f},{y(v):.1f}"
            for t, v in zip(rows["time"], rows[column], strict=True)
            if not math.isnan(v)
        )
        series.append(Series(str(variant), COLOURS[index % len(COLOURS)], points))
    label = f"{top * 100:.1f} %" if percent else f"{top:.2f}"
    return Chart(WIDTH, HEIGHT, series, label, f"{start:%m-%d %H:%M}", f"{end:%m-%d %H:%M}")
