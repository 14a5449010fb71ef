"""The offline evaluation of the design doc, its JSON + HTML report, and reading that report back.

Protocol: events with a customer id; cut at the 0.9 quantile of event time; the two-stage model is
fitted on everything before the cut (it makes its own 80 / 20 cut inside); 10 products for each
customer seen before and after; relevant = what they interacted with after. Each stage-one source
is scored alone (as refitted on all of global train, i.e. the very lists the ranker reorders), and
so are the clustering baseline and plain ALS-64 (the reference); every list with already-bought
products allowed, and excluded.

Discovery: relevant = products a customer bought or added to cart after the cut and never
interacted with before it; every list excludes everything the customer interacted with before;
scored over the customers with at least one such product (the two-stage model's discovery order).

Rolling origin: the same at several cuts (e.g. the 0.7, 0.8 and 0.9 quantiles of event time),
every metric per cut and its spread. Settings are chosen on the earlier cuts; the report's headline
numbers (`metrics`, `protocol`, …) are the last cut's.
"""

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from vitrina_shared.schema import Columns, EventType
from vitrina_trainer.baseline import ClusterBaseline
from vitrina_trainer.candidates import ALSSource
from vitrina_trainer.metrics import K, ranking_metrics, sanity_checks
from vitrina_trainer.recommender import RecommenderConfig, TwoStageRecommender
from vitrina_trainer.report import HtmlReport, new_figure
from vitrina_trainer.splits import GLOBAL_TRAIN_SHARE, TimeSplit, split_by_time, with_user_id

log = logging.getLogger(__name__)

TWO_STAGE = "two-stage"
ALS_64 = "als-64"
EXCLUDE_DEPTH = 200
VARIANTS = ("allowed", "excluded", "discovery")
DISCOVERY_EVENTS = (EventType.CART.value, EventType.PURCHASE.value)


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


def discovery_truth(split: TimeSplit) -> pd.DataFrame:
    """What counts as a discovery: products new to a customer, taken after the cut.

    (user, item) pairs bought or added to cart after the cut by customers seen before it, of
    products they never interacted with before it.
    """
    after = split.validation
    if Columns.EVENT in after.columns:
        after = after[after[Columns.EVENT].astype(str).isin(DISCOVERY_EVENTS)]
    after = after[after[Columns.USER].isin(split.users_on_both_sides)]
    pairs = after[[Columns.USER, Columns.ITEM]].drop_duplicates()
    before = pd.MultiIndex.from_frame(split.train[[Columns.USER, Columns.ITEM]].drop_duplicates())
    return pairs[~pd.MultiIndex.from_frame(pairs).isin(before)].reset_index(drop=True)


def evaluate(
    events: pd.DataFrame,
    items: pd.DataFrame | None = None,
    config: RecommenderConfig | None = None,
    k: int = K,
    cuts: tuple[float, ...] = (GLOBAL_TRAIN_SHARE,),
) -> dict[str, Any]:
    """Every number of the report.

    One evaluation per cut (a quantile of event time), the last cut's at the top level, each
    cut's metric rows under `cuts` and their spread under `spread`.
    """
    if not cuts:
        raise ValueError("give at least one cut")
    config = config or RecommenderConfig()
    events = with_user_id(events).copy()
    events[Columns.USER] = events[Columns.USER].astype(str)
    events[Columns.ITEM] = events[Columns.ITEM].astype(str)
    prices = _prices(events, items)
    results = []
    for share in cuts:
        log.info("evaluating at the %.2f quantile of event time", share)
        results.append(_evaluate_cut(split_by_time(events, share), items, config, k, prices))
    per_cut = [
        {
            "train_share": share,
            "cut": result["protocol"]["cut"],
            "customers_scored": result["protocol"]["customers_scored"],
            "discovery_customers": result["protocol"]["discovery_customers"],
            "metrics": result["metrics"],
        }
        for share, result in zip(cuts, results, strict=True)
    ]
    return {**results[-1], "cuts": per_cut, "spread": spread(per_cut)}


def spread(per_cut: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each metric of each (model, variant) over the cuts: every value, mean, std, min, max."""
    frame = pd.DataFrame(
        [{**row, "cut": n} for n, cut in enumerate(per_cut) for row in cut["metrics"]]
    )
    long = frame.melt(id_vars=["model", "bought", "cut"], var_name="metric").dropna()
    rows = []
    for (model, bought, metric), group in long.groupby(["model", "bought", "metric"], sort=False):
        values = group.sort_values("cut")["value"].astype(float)
        rows.append(
            {
                "model": model,
                "bought": bought,
                "metric": metric,
                "per_cut": values.round(6).tolist(),
                "mean": float(values.mean()),
                "std": float(values.std(ddof=0)),
                "min": float(values.min()),
                "max": float(values.max()),
            }
        )
    return rows


def _evaluate_cut(
    split: TimeSplit,
    items: pd.DataFrame | None,
    config: RecommenderConfig,
    k: int,
    prices: pd.Series,
) -> dict[str, Any]:
    """Fit on the split's train, score on its validation."""
    users = split.users_on_both_sides
    truth = split.validation[split.validation[Columns.USER].isin(users)]
    truth = truth[[Columns.USER, Columns.ITEM]].drop_duplicates()
    new_truth = discovery_truth(split)
    new_users = pd.Index(new_truth[Columns.USER].unique())
    history = split.train[[Columns.USER, Columns.ITEM]].drop_duplicates()
    seen = history[history[Columns.USER].isin(users)]
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
    new = {TWO_STAGE: model.recommend(list(new_users), k, discovery=True)}
    started = time.perf_counter()
    baseline = ClusterBaseline(seed=config.seed).fit(data)
    timings["baseline_fit_s"] = time.perf_counter() - started
    started = time.perf_counter()
    als = ALSSource(factors=64, threads=config.threads, seed=config.seed).fit(data)
    timings["als_64_fit_s"] = time.perf_counter() - started
    codes = data.users.get_indexer(users)
    codes = codes[codes >= 0]
    deep_lists = {
        ALS_64: data.decode(als.candidates(codes, k + EXCLUDE_DEPTH)),
        "baseline": data.decode(baseline.candidates(codes, k + EXCLUDE_DEPTH)),
        **{
            f"source:{name}": deep
            for name, deep in model.stage_one(list(users), k + EXCLUDE_DEPTH).items()
        },
    }
    for name, deep in deep_lists.items():
        lists[name] = deep[deep[Columns.RANK] <= k]
        excluded[name] = _without_seen(deep, seen, k)
        new[name] = excluded[name][excluded[name][Columns.USER].isin(new_users)]

    rows = []
    for bought, reco_lists, relevant in (
        ("allowed", lists, truth),
        ("excluded", excluded, truth),
        ("discovery", new, new_truth),
    ):
        for name, reco in reco_lists.items():
            scores = ranking_metrics(reco, relevant, history, catalog, prices, k)
            rows.append({"model": name, "bought": bought, **scores})
    reco = lists[TWO_STAGE]
    ndcg = f"ndcg@{k}"
    return {
        "protocol": {
            "events": len(split.train) + len(split.validation),
            "cut": split.cut.isoformat(),
            "train_events": len(split.train),
            "validation_events": len(split.validation),
            "customers_scored": len(users),
            "discovery_customers": len(new_users),
            "catalog_items": len(catalog),
            "k": k,
            "relevant": "products each customer interacted with after the cut",
            "relevant_discovery": "products each customer bought or added to cart after the cut "
            "and never interacted with before it",
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
            **{f"discovery_{name}": value for name, value in diagnostics.discovery_ranker.items()},
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
    report.section("Discovery: products new to the customer").text(
        f"Relevant = {protocol['relevant_discovery']}; every list excludes what the customer "
        f"interacted with before the cut; {protocol['discovery_customers']:,} customers with at "
        f"least one such product. {ALS_64} is plain implicit ALS with 64 factors, the reference."
    )
    report.table(metrics_table(result, "discovery"))
    report.section("Rolling-origin backtest").text(
        "The whole evaluation at each cut (a quantile of event time): the two-stage model and "
        f"{ALS_64} per cut, then every metric's spread over the cuts. Settings are chosen on the "
        "earlier cuts; the tables above are the last cut's."
    )
    report.table(backtest_table(result))
    report.table(
        [
            {
                "model": row["model"],
                "bought": row["bought"],
                "metric": row["metric"],
                "per cut": ", ".join(f"{value:.4f}" for value in row["per_cut"]),
                "mean ± std": f"{row['mean']:.4f} ± {row['std']:.4f}",
                "min – max": f"{row['min']:.4f} – {row['max']:.4f}",
            }
            for row in result["spread"]
        ]
    )
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


def backtest_table(
    result: dict[str, Any], models: tuple[str, ...] = (TWO_STAGE, ALS_64)
) -> pd.DataFrame:
    """NDCG@k and Recall@k of `models` per cut and variant, one row per cut."""
    k = result["protocol"]["k"]
    rows = []
    for cut in result["cuts"]:
        row: dict[str, Any] = {"quantile": cut["train_share"], "cut": cut["cut"][:16]}
        for metric in (f"ndcg@{k}", f"recall@{k}"):
            for bought in VARIANTS:
                for model in models:
                    value = next(
                        r[metric]
                        for r in cut["metrics"]
                        if r["model"] == model and r["bought"] == bought
                    )
                    row[f"{bought} {metric} {model}"] = round(value, 4)
        rows.append(row)
    return pd.DataFrame(rows).set_index("quantile")


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
    for variant, name in (("excluded", "bought_excluded"), ("discovery", "discovery")):
        if variant in rows:
            metrics[name] = {
                metric: value
                for metric, value in rows[variant].items()
                if metric not in ("model", "bought")
            }
    metrics["evaluated"] = {
        "report": str(path),
        "at": datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(),
        "cut": report.get("protocol", {}).get("cut"),
    }
    return metrics
