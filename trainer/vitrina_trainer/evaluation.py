"""The offline evaluation of the design doc, its JSON + HTML report, and reading that report back.

Protocol: events with a customer id; cut at the 0.9 quantile of event time; the two-stage model is
fitted on everything before the cut (it makes its own 80 / 20 cut inside); 10 products for each
customer seen before and after; relevant = what they interacted with after. Each stage-one source
is scored alone (as refitted on all of global train, i.e. the very lists the ranker reorders), and
so is the clustering baseline; every list with already-bought products allowed, and excluded.
"""

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from vitrina_shared.schema import Columns
from vitrina_trainer.baseline import ClusterBaseline
from vitrina_trainer.metrics import K, ranking_metrics, sanity_checks
from vitrina_trainer.recommender import RecommenderConfig, TwoStageRecommender
from vitrina_trainer.report import HtmlReport, new_figure
from vitrina_trainer.splits import global_split, with_user_id

log = logging.getLogger(__name__)

TWO_STAGE = "two-stage"
EXCLUDE_DEPTH = 200


def _without_seen(reco: pd.DataFrame, seen: pd.DataFrame, k: int) -> pd.DataFrame:
    """Drop already-seen pairs and re-rank; keep the best k."""
    keys = pd.MultiIndex.from_frame(reco[[Columns.USER, Columns.ITEM]])
    reco = reco[~keys.isin(pd.MultiIndex.from_frame(seen))].sort_values(
        [Columns.USER, Columns.RANK]
    )
    reco = reco.assign(**{Columns.RANK: reco.groupby(Columns.USER, sort=False).cumcount() + 1})
    return reco[reco[Columns.RANK] <= k]


def _prices(events: pd.DataFrame, items: pd.DataFrame | None) -> pd.Series:
    """item_id → unit price: the catalog's where it has one, else the median price paid."""
    paid = events.groupby(Columns.ITEM, observed=True)[Columns.PRICE].median().astype(float)
    paid.index = paid.index.astype(str)
    if items is None:
        return paid
    listed = items.set_index(items[Columns.ITEM].astype(str))[Columns.PRICE].astype(float)
    listed = listed[~listed.index.duplicated()].reindex(paid.index)
    return listed.fillna(paid)


def evaluate(
    events: pd.DataFrame,
    items: pd.DataFrame | None = None,
    config: RecommenderConfig | None = None,
    k: int = K,
) -> dict[str, Any]:
    """Fit on global train, score on global validation; every number of the report."""
    config = config or RecommenderConfig()
    events = with_user_id(events).copy()
    events[Columns.USER] = events[Columns.USER].astype(str)
    events[Columns.ITEM] = events[Columns.ITEM].astype(str)
    split = global_split(events)
    users = split.users_on_both_sides
    truth = split.validation[split.validation[Columns.USER].isin(users)]
    truth = truth[[Columns.USER, Columns.ITEM]].drop_duplicates()
    history = split.train[[Columns.USER, Columns.ITEM]].drop_duplicates()
    seen = history[history[Columns.USER].isin(users)]
    prices = _prices(events, items)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    model = TwoStageRecommender(config).fit(split.train, items)
    timings["two_stage_fit_s"] = time.perf_counter() - started
    diagnostics = model.diagnostics()
    data = diagnostics.data
    catalog = pd.Index(data.items)

    lists: dict[str, pd.DataFrame] = {}
    started = time.perf_counter()
    lists[TWO_STAGE] = model.recommend(list(users), k)[[Columns.USER, Columns.ITEM, Columns.RANK]]
    timings["two_stage_recommend_s"] = time.perf_counter() - started
    excluded = {TWO_STAGE: model.recommend(list(users), k, exclude_seen=True)}
    started = time.perf_counter()
    baseline = ClusterBaseline(seed=config.seed).fit(data)
    timings["baseline_fit_s"] = time.perf_counter() - started
    codes = data.users.get_indexer(users)
    deep_lists = {
        "baseline": data.decode(baseline.candidates(codes[codes >= 0], k + EXCLUDE_DEPTH)),
        **{
            f"source:{name}": deep
            for name, deep in model.stage_one(list(users), k + EXCLUDE_DEPTH).items()
        },
    }
    for name, deep in deep_lists.items():
        lists[name] = deep[deep[Columns.RANK] <= k]
        excluded[name] = _without_seen(deep, seen, k)

    rows = []
    for bought, reco_lists in (("allowed", lists), ("excluded", excluded)):
        for name, reco in reco_lists.items():
            scores = ranking_metrics(reco, truth, history, catalog, prices, k)
            rows.append({"model": name, "bought": bought, **scores})
    reco = lists[TWO_STAGE]
    ndcg = f"ndcg@{k}"
    return {
        "protocol": {
            "events": len(events),
            "cut": split.cut.isoformat(),
            "train_events": len(split.train),
            "validation_events": len(split.validation),
            "customers_scored": len(users),
            "catalog_items": len(catalog),
            "k": k,
            "relevant": "products each customer interacted with after the cut",
        },
        "config": config.model_dump(mode="json"),
        "metrics": rows,
        "feature_importance": model.feature_importance().round(6).to_dict(),
        "overfitting": {
            "ranker_learn_ndcg@10": diagnostics.ranker["learn_ndcg"],
            "ranker_holdout_ndcg@10": diagnostics.ranker["holdout_ndcg"],
            "global_validation_ndcg@10": next(
                r[ndcg] for r in rows if r["model"] == TWO_STAGE and r["bought"] == "allowed"
            ),
            "ranker_trees": diagnostics.ranker["trees"],
            "ranker_customers": diagnostics.ranker["customers"],
            "ranker_rows": diagnostics.ranker["rows"],
        },
        "sanity": sanity_checks(reco, users, catalog, k),
        "timings": {name: round(value, 2) for name, value in timings.items()},
    }


def metrics_table(result: dict[str, Any], bought: str) -> pd.DataFrame:
    """The metric rows of one variant as a frame indexed by model."""
    rows = [r for r in result["metrics"] if r["bought"] == bought]
    return pd.DataFrame(rows).drop(columns="bought").set_index("model")


def write_report(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """evaluation.json and evaluation.html in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "evaluation.json"
    # orjson writes NaN (a metric with nothing to measure) as null: strict JSON has no NaN.
    json_path.write_bytes(
        orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    protocol = result["protocol"]
    report = HtmlReport(
        "Vitrina — offline evaluation",
        f"cut {protocol['cut']}; {protocol['customers_scored']:,} customers scored; "
        f"k = {protocol['k']}; relevant = {protocol['relevant']}",
    )
    allowed = metrics_table(result, "allowed")
    report.section("Already-bought products allowed").table(allowed)
    figure, axes = new_figure()
    ndcg = allowed.iloc[:, 0].sort_values()
    axes.barh(ndcg.index, ndcg.to_numpy())
    axes.set_xlabel(ndcg.name)
    report.figure(figure, f"{ndcg.name} by model")
    report.section("Already-bought products excluded").table(metrics_table(result, "excluded"))
    importance = pd.Series(result["feature_importance"], name="gain share")
    report.section("Feature importance (ranker gain)").table(
        importance.rename_axis("feature").to_frame()
    )
    report.section("Overfitting check").text(
        "NDCG@10 of the ranker's order of whole candidate lists (local validation labels) for "
        "the customers it learned from and for customers held out of its training, then the "
        "two-stage model's NDCG@10 on global validation. A wide learned/held-out gap means "
        "the ranker memorises its customers."
    )
    report.table([{"measure": key, "value": value} for key, value in result["overfitting"].items()])
    report.section("Sanity checks of the two-stage lists").table(
        [{"check": key, "passed": str(value)} for key, value in result["sanity"].items()],
        flagged=[not value for value in result["sanity"].values()],
    )
    report.section("Timings").table(
        [{"stage": key, "seconds": value} for key, value in result["timings"].items()]
    )
    return json_path, report.write(out_dir / "evaluation.html")


def ndcg_of(result: dict[str, Any], model: str, bought: str = "allowed") -> float:
    """One number of the report, e.g. the two-stage model's NDCG@10."""
    row = next(r for r in result["metrics"] if r["model"] == model and r["bought"] == bought)
    return float(row[f"ndcg@{result['protocol']['k']}"])


def last_evaluation(path: Path) -> dict[str, Any]:
    """The two-stage model's metrics from the last `evaluate` report, when there is one."""
    if not path.is_file():
        return {}
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        rows = {r["bought"]: r for r in report["metrics"] if r["model"] == TWO_STAGE}
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable evaluation report %s: %s", path, exc)
        return {}
    metrics: dict[str, Any] = {
        name: value
        for name, value in rows.get("allowed", {}).items()
        if name not in ("model", "bought")
    }
    if "excluded" in rows:
        metrics["bought_excluded"] = {
            name: value
            for name, value in rows["excluded"].items()
            if name not in ("model", "bought")
        }
    metrics["evaluated"] = {
        "report": str(path),
        "at": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
        "cut": report.get("protocol", {}).get("cut"),
    }
    return metrics
