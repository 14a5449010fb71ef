"""The data quality report and the exploratory analysis (the design doc's stages 1–2).

Quality: rows read and skipped by reason, each raw column's share of missing values against the
design doc's 5 % bar. EDA: events per day, the funnel by event type, platform shares, the long
tails of user activity and product popularity, prices. Written as `eda.html` (plots inlined) and
`eda.json` (the same numbers) so a run can be compared with the last one.
"""

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from vitrina_shared.events import EventLog
from vitrina_shared.schema import EVENT_TYPES, Columns, EventType
from vitrina_trainer.report import HtmlReport, new_figure

MISSING_BAR = 0.05
QUANTILES = (0.5, 0.9, 0.99)
TOP_SHARES = (0.01, 0.1, 0.2)


def quality(log: EventLog) -> dict[str, Any]:
    rows_read = max(log.rows_read, 1)
    return {
        "rows_read": log.rows_read,
        "events_kept": len(log.events),
        "rows_skipped": log.rows_skipped,
        "skipped": [
            {"reason": reason, "rows": count, "share": count / rows_read}
            for reason, count in sorted(log.skipped.items(), key=lambda kv: -kv[1])
        ],
        "missing": [
            {"column": column, "share": share, "over_bar": share > MISSING_BAR}
            for column, share in log.missing_share.items()
        ],
        "missing_bar": MISSING_BAR,
        "sources": list(log.sources),
    }


def long_tail(counts: pd.Series) -> dict[str, Any]:
    """How concentrated activity is: quantiles of per-entity counts and the top entities' share."""
    ordered = np.sort(counts.to_numpy())[::-1]
    total = ordered.sum()
    return {
        "entities": len(ordered),
        "mean": float(ordered.mean()),
        "max": int(ordered[0]),
        "quantiles": {f"p{round(q * 100)}": float(np.quantile(ordered, q)) for q in QUANTILES},
        "top_share": {
            f"top {share:.0%}": float(ordered[: max(1, int(len(ordered) * share))].sum() / total)
            for share in TOP_SHARES
        },
        "with_one_event": int((ordered == 1).sum()),
    }


def explore(events: pd.DataFrame) -> dict[str, Any]:
    """The EDA numbers of a clean event frame (`Columns` schema)."""
    days = events[Columns.DATETIME].dt.floor("D")
    per_day = (
        pd.crosstab(days, events[Columns.EVENT].astype(str))
        .reindex(columns=list(EVENT_TYPES), fill_value=0)
        .sort_index()
    )
    by_type = events.groupby(Columns.EVENT, observed=True)
    funnel_events = by_type.size().reindex(list(EVENT_TYPES), fill_value=0)
    funnel_users = by_type[Columns.USER].nunique().reindex(list(EVENT_TYPES), fill_value=0)
    views = funnel_users[EventType.VIEW.value]
    platforms = events[Columns.PLATFORM].astype(str).value_counts(normalize=True)
    price = events[Columns.PRICE]
    purchases = events[events[Columns.EVENT] == EventType.PURCHASE]
    return {
        "span": {
            "from": events[Columns.DATETIME].min().isoformat(),
            "to": events[Columns.DATETIME].max().isoformat(),
            "days": int(days.nunique()),
        },
        "counts": {
            "events": len(events),
            "users": int(events[Columns.USER].nunique()),
            "items": int(events[Columns.ITEM].nunique()),
        },
        "events_per_day": [
            {"date": f"{day:%Y-%m-%d}", **{k: int(v) for k, v in row.items()}}
            for day, row in per_day.iterrows()
        ],
        "funnel": [
            {
                "event_type": name,
                "events": int(funnel_events[name]),
                "users": int(funnel_users[name]),
                "users_share_of_viewers": float(funnel_users[name] / views) if views else None,
            }
            for name in EVENT_TYPES
        ],
        "platforms": [{"platform": p, "share": float(s)} for p, s in platforms.items()],
        "user_activity": long_tail(events[Columns.USER].value_counts(sort=False)),
        "item_popularity": long_tail(events[Columns.ITEM].value_counts(sort=False)),
        "prices": {
            "events_quantiles": {
                f"p{round(q * 100)}": float(price.quantile(q)) for q in (0.1, *QUANTILES)
            },
            "median_by_event_type": {
                name: float(price[events[Columns.EVENT] == name].median())
                if (events[Columns.EVENT] == name).any()
                else None
                for name in EVENT_TYPES
            },
            "revenue100": int((purchases[Columns.PRICE] * purchases[Columns.QTY]).sum()),
        },
    }


def _rank_plot(ax, counts: pd.Series, what: str) -> None:
    ordered = np.sort(counts.to_numpy())[::-1]
    ax.loglog(np.arange(1, len(ordered) + 1), ordered)
    ax.set_xlabel(f"{what} rank")
    ax.set_ylabel("events")
    ax.grid(alpha=0.3)


def build_report(log: EventLog, summary: dict[str, Any]) -> HtmlReport:
    events = log.events
    q = summary["quality"]
    report = HtmlReport("Vitrina: data quality and EDA", subtitle=", ".join(q["sources"]))

    report.section("Data quality")
    report.text(
        f"{q['rows_read']:,} rows read, {q['events_kept']:,} events kept, "
        f"{q['rows_skipped']:,} rows skipped."
    )
    if q["skipped"]:
        report.table(q["skipped"], caption="Rows skipped, by reason")
    report.table(
        [{"column": m["column"], "missing share": m["share"]} for m in q["missing"]],
        caption=f"Missing values per column (highlighted: over the {MISSING_BAR:.0%} bar)",
        flagged=[m["over_bar"] for m in q["missing"]],
    )

    report.section("Events per day")
    per_day = pd.DataFrame(summary["events_per_day"]).set_index("date")
    figure, ax = new_figure()
    for name in per_day.columns:
        ax.plot(pd.to_datetime(per_day.index), per_day[name], label=name)
    ax.set_ylabel("events")
    ax.legend()
    ax.grid(alpha=0.3)
    figure.autofmt_xdate()  # dates are long: slanted, they do not overlap
    report.figure(figure, caption="Events per day by type")

    report.section("Funnel")
    funnel = pd.DataFrame(summary["funnel"])
    report.table(funnel)
    figure, ax = new_figure(6, 3)
    ax.bar(funnel["event_type"], funnel["users"])
    ax.set_ylabel("users")
    report.figure(figure, caption="Users reaching each event type")

    report.section("Platforms")
    platforms = pd.DataFrame(summary["platforms"])
    report.table(platforms)
    figure, ax = new_figure(6, 3)
    ax.barh(platforms["platform"], platforms["share"])
    ax.set_xlabel("share of events")
    report.figure(figure, caption="Share of events per platform")

    report.section("Long tails")
    for key, what, column in (
        ("user_activity", "user", Columns.USER),
        ("item_popularity", "product", Columns.ITEM),
    ):
        tail = summary[key]
        report.table(
            [
                {
                    f"{what}s": tail["entities"],
                    "mean": tail["mean"],
                    **tail["quantiles"],
                    "max": tail["max"],
                    **tail["top_share"],
                    "with one event": tail["with_one_event"],
                }
            ],
            caption=f"Events per {what} (top shares: part of all events)",
        )
        figure, ax = new_figure(6, 3)
        _rank_plot(ax, events[column].value_counts(sort=False), what)
        report.figure(figure, caption=f"Events per {what}, by rank (log-log)")

    report.section("Prices")
    prices = summary["prices"]
    report.table(
        [{"quantile": k, "price100": v} for k, v in prices["events_quantiles"].items()],
        caption="Unit price (minor units) over all events",
    )
    figure, ax = new_figure(6, 3)
    positive = events[Columns.PRICE].to_numpy()
    ax.hist(np.log10(positive), bins=50)
    ax.set_xlabel("log10 price100")
    ax.set_ylabel("events")
    report.figure(figure, caption="Distribution of unit prices")
    return report


def write_eda(log: EventLog, out_dir: Path) -> tuple[Path, Path]:
    """Write `eda.html` and `eda.json` into `out_dir`; returns their paths."""
    summary = {"quality": quality(log), **explore(log.events)}
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "eda.json"
    json_path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    html_path = build_report(log, summary).write(out_dir / "eda.html")
    return html_path, json_path
