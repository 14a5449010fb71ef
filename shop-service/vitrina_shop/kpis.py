"""Online KPIs of an experiment per variant, computed from the shop's own tables.

A visitor belongs to a variant from its first impression in the experiment; its orders count from
then until the experiment stopped. A line of an order (or an add-to-cart) is attributed to a
recommendation when the same visitor clicked that product in a recommendation block within the
attribution window before it (the last such click).
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vitrina_shared.schema import EventType
from vitrina_shop import estimates
from vitrina_shop.estimates import Difference, Estimate
from vitrina_shop.experiments import get
from vitrina_shop.models import Experiment, Impression, Order, OrderLine, RecoClick, events

TIMELINE_POINTS = 24
LIFTS = ("conversion", "revenue_per_visitor", "average_order_value", "ctr", "frequency")


@dataclass
class VariantKpis:
    name: str
    control: bool
    strategy: str
    share: int
    visitors: int
    orders: int
    impressions: int
    conversion: Estimate
    revenue_per_visitor: Estimate
    average_order_value: Estimate
    ctr: Estimate
    frequency: Estimate
    attributed_revenue_share: Estimate
    attributed_carts: int
    lift: dict[str, Difference] = field(default_factory=dict)
    mde: dict[str, float] = field(default_factory=dict)


@dataclass
class Report:
    experiment: str
    running: bool
    started_at: datetime
    ended_at: datetime
    srm_p: float
    variants: list[VariantKpis]
    timeline: pd.DataFrame  # time, variant, conversion, revenue_per_visitor (cumulative)

    @property
    def sample_ratio_mismatch(self) -> bool:
        return self.srm_p < 0.001

    def as_json(self) -> dict[str, Any]:
        """The machine-readable report: exactly the fields `experiments report --json` promises."""
        variants = []
        for v in self.variants:
            entry: dict[str, Any] = {
                "name": v.name,
                "control": v.control,
                "visitors": v.visitors,
                "orders": v.orders,
                "conversion": _estimate(v.conversion),
                "revenue_per_visitor": _estimate(v.revenue_per_visitor),
                "average_order_value": _estimate(v.average_order_value),
                "ctr": _estimate(v.ctr),
            }
            if not v.control:
                entry["lift"] = {
                    name: {**_estimate(v.lift[name]), "p": _number(v.lift[name].p)}
                    for name in ("conversion", "revenue_per_visitor")
                }
            variants.append(entry)
        return {"experiment": self.experiment, "srm_p": _number(self.srm_p), "variants": variants}


def _number(value: float) -> float | None:
    """JSON has no NaN: an estimate without data is null."""
    return None if value is None or math.isnan(value) else float(f"{value:.6g}")


def _estimate(e: Estimate | Difference) -> dict[str, float | None]:
    return {"value": _number(e.value), "ci_low": _number(e.ci_low), "ci_high": _number(e.ci_high)}


def _as_utc(series: pd.Series) -> pd.Series:
    """SQLite hands back naive times (stored as UTC), PostgreSQL aware ones: make them alike."""
    times = pd.to_datetime(series)
    return times.dt.tz_localize("UTC") if times.dt.tz is None else times.dt.tz_convert("UTC")


def _utc(moment: datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _frame(db: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(db.execute(query).all(), columns=columns)


def _visitors(db: Session, name: str) -> pd.DataFrame:
    query = (
        select(Impression.visitor_id, func.min(Impression.variant), func.min(Impression.created_at))
        .where(Impression.experiment == name)
        .group_by(Impression.visitor_id)
    )
    frame = _frame(db, query, ["visitor", "variant", "first_seen"])
    frame["first_seen"] = _as_utc(frame["first_seen"])
    return frame


def _orders(db: Session, name: str, end: datetime) -> pd.DataFrame:
    in_experiment = select(Impression.visitor_id).where(Impression.experiment == name)
    query = select(Order.id, Order.user_id, Order.created_at, Order.total100).where(
        Order.user_id.in_(in_experiment), Order.created_at <= end
    )
    frame = _frame(db, query, ["order", "visitor", "time", "total100"])
    frame["time"] = _as_utc(frame["time"])
    return frame


def _order_lines(db: Session, order_ids: list[int]) -> pd.DataFrame:
    query = select(OrderLine.order_id, OrderLine.product_id, OrderLine.price100 * OrderLine.qty)
    frame = _frame(db, query.where(OrderLine.order_id.in_(order_ids)), ["order", "product", "sum"])
    return frame if order_ids else frame.iloc[:0]


def _clicks(db: Session, name: str) -> pd.DataFrame:
    in_experiment = select(Impression.visitor_id).where(Impression.experiment == name)
    query = select(RecoClick.visitor_id, RecoClick.product_id, RecoClick.created_at).where(
        RecoClick.visitor_id.in_(in_experiment)
    )
    frame = _frame(db, query, ["visitor", "product", "time"])
    frame["time"] = _as_utc(frame["time"])
    return frame.sort_values("time")


def _carts(db: Session, name: str, end: datetime) -> pd.DataFrame:
    in_experiment = select(Impression.visitor_id).where(Impression.experiment == name)
    query = select(events.c.user_id, events.c.nm, events.c.utc_event_time).where(
        events.c.event_type == EventType.CART.value,
        events.c.user_id.in_(in_experiment),
        events.c.utc_event_time <= end,
    )
    frame = _frame(db, query, ["visitor", "product", "time"])
    frame["time"] = _as_utc(frame["time"])
    return frame


def attributed(things: pd.DataFrame, clicks: pd.DataFrame, window: timedelta) -> pd.Series:
    """Whether a recommendation click on each row's product led to it.

    For each row (visitor, product, time): was there a click on that product by that visitor
    within `window` before it? The last such click is the one it is attributed to.
    """
    if things.empty or clicks.empty:
        return pd.Series(False, index=things.index)
    ordered = things.reset_index().sort_values("time")
    merged = pd.merge_asof(
        ordered,
        clicks.rename(columns={"time": "click_time"}).assign(time=lambda f: f["click_time"]),
        on="time",
        by=["visitor", "product"],
        direction="backward",
        tolerance=pd.Timedelta(window),
    )
    return pd.Series(merged["click_time"].notna().to_numpy(), index=merged["index"]).reindex(
        things.index
    )


def _impressions(db: Session, name: str) -> dict[str, tuple[int, int]]:
    """Per variant: impressions, and impressions with at least one click."""
    clicked = select(RecoClick.impression_id).distinct().subquery()
    query = (
        select(Impression.variant, func.count(), func.count(clicked.c.impression_id))
        .outerjoin(clicked, clicked.c.impression_id == Impression.id)
        .where(Impression.experiment == name)
        .group_by(Impression.variant)
    )
    return {variant: (shown, hit) for variant, shown, hit in db.execute(query)}


def report(db: Session, name: str, window: timedelta, now: datetime | None = None) -> Report:
    experiment: Experiment = get(db, name)
    end = _utc(experiment.stopped_at or now or datetime.now(UTC)).to_pydatetime()
    visitors = _visitors(db, name)
    orders = _orders(db, name, end).merge(visitors, on="visitor")
    orders = orders[orders["time"] >= orders["first_seen"]]
    lines = _order_lines(db, orders["order"].tolist()).merge(
        orders[["order", "visitor", "time"]], on="order"
    )
    clicks = _clicks(db, name)
    lines["attributed"] = attributed(lines, clicks, window)
    carts = _carts(db, name, end).merge(visitors[["visitor", "variant"]], on="visitor")
    carts["attributed"] = attributed(carts, clicks, window)
    per_visitor = orders.groupby("visitor").agg(
        orders=("order", "size"), revenue=("total100", "sum")
    )
    visitors = visitors.join(per_visitor, on="visitor").fillna({"orders": 0, "revenue": 0})
    visitors["revenue"] = visitors["revenue"] / 100
    shown = _impressions(db, name)

    kpis = [
        _variant(v, visitors, orders, lines, carts, shown.get(v.name, (0, 0)))
        for v in experiment.variants
    ]
    control = next(k for k in kpis if k.control)
    base = visitors[visitors["variant"] == control.name]
    for k in kpis:
        own = visitors[visitors["variant"] == k.name]
        if not k.control:
            k.lift = _lifts(k, control, own, base, orders)
        k.mde = {
            "conversion": estimates.mde_proportion(control.conversion.value, len(base), len(own)),
            "revenue_per_visitor": estimates.mde_mean(
                float(base["revenue"].std()) if len(base) > 1 else math.nan, len(base), len(own)
            ),
        }
    srm = estimates.sample_ratio_p([k.visitors for k in kpis], [k.share for k in kpis])
    started = _utc(experiment.started_at).to_pydatetime()
    return Report(
        name, experiment.running, started, end, srm, kpis, _timeline(visitors, orders, started, end)
    )


def _variant(
    v: Any,
    visitors: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    carts: pd.DataFrame,
    shown: tuple[int, int],
) -> VariantKpis:
    own = visitors[visitors["variant"] == v.name]
    own_orders = orders[orders["variant"] == v.name]
    own_lines = lines[lines["visitor"].isin(own["visitor"])]
    buyers = own[own["orders"] > 0]
    total = float(own_lines["sum"].sum())
    from_recos = float(own_lines.loc[own_lines["attributed"], "sum"].sum())
    share = estimates.ratio(from_recos, total)
    return VariantKpis(
        name=v.name,
        control=v.is_control,
        strategy=v.strategy,
        share=v.share,
        visitors=len(own),
        orders=len(own_orders),
        impressions=shown[0],
        conversion=estimates.proportion(len(buyers), len(own)),
        revenue_per_visitor=estimates.mean(own["revenue"]),
        average_order_value=estimates.mean(own_orders["total100"] / 100),
        ctr=estimates.proportion(shown[1], shown[0]),
        frequency=estimates.mean(buyers["orders"]),
        attributed_revenue_share=share,
        attributed_carts=int(carts.loc[carts["variant"] == v.name, "attributed"].sum()),
    )


def _lifts(
    k: VariantKpis,
    control: VariantKpis,
    own: pd.DataFrame,
    base: pd.DataFrame,
    orders: pd.DataFrame,
) -> dict[str, Difference]:
    converted = int((own["orders"] > 0).sum()), int((base["orders"] > 0).sum())
    return {
        "conversion": estimates.proportion_difference(
            converted[0], len(own), converted[1], len(base)
        ),
        "revenue_per_visitor": estimates.mean_difference(own["revenue"], base["revenue"]),
        "average_order_value": estimates.mean_difference(
            orders.loc[orders["variant"] == k.name, "total100"] / 100,
            orders.loc[orders["variant"] == control.name, "total100"] / 100,
        ),
        "ctr": estimates.proportion_difference(
            round(k.ctr.value * k.impressions) if k.impressions else 0,
            k.impressions,
            round(control.ctr.value * control.impressions) if control.impressions else 0,
            control.impressions,
        ),
        "frequency": estimates.mean_difference(
            own.loc[own["orders"] > 0, "orders"], base.loc[base["orders"] > 0, "orders"]
        ),
    }


def _timeline(
    visitors: pd.DataFrame, orders: pd.DataFrame, start: datetime, end: datetime
) -> pd.DataFrame:
    """Cumulative conversion and revenue per visitor per variant at evenly spaced times."""
    rows = []
    if visitors.empty:
        return pd.DataFrame(rows, columns=["time", "variant", "conversion", "revenue_per_visitor"])
    points = pd.date_range(start, max(end, start + timedelta(seconds=1)), periods=TIMELINE_POINTS)
    for variant, seen in visitors.groupby("variant"):
        own = orders[orders["variant"] == variant].sort_values("time")
        first_order = own.groupby("visitor")["time"].min()
        for t in points:
            count = int((seen["first_seen"] <= t).sum())
            upto = own[own["time"] <= t]
            converted = int((first_order <= t).sum())
            rows.append(
                (
                    t,
                    variant,
                    converted / count if count else math.nan,
                    upto["total100"].sum() / 100 / count if count else math.nan,
                )
            )
    return pd.DataFrame(rows, columns=["time", "variant", "conversion", "revenue_per_visitor"])
