"""The admin dashboard at /admin: model versions, experiments with their KPIs, health.

Only customers with the admin role (`vitrina-shop create-admin`) see it; to everyone else every
/admin URL is a 404, as if it did not exist. Every form is a POST with its CSRF token checked.
"""

import math
from datetime import timedelta
from typing import Any

import httpx
import redis
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from vitrina_shared.model_store import ModelStore, PublishError
from vitrina_shop import charts, experiments, kpis
from vitrina_shop.db import get_db
from vitrina_shop.exposure import get_log
from vitrina_shop.models import Admin, events

bp = Blueprint("admin", __name__, url_prefix="/admin")

STORE_TIMEOUT_S = 2.0
RECOMMENDATIONS = "/recommendations/{user_id}"


@bp.before_request
def admins_only() -> None:
    if g.get("user") is None or get_db().get(Admin, g.user.id) is None:
        abort(404)


def _store() -> ModelStore:
    settings = current_app.extensions["vitrina_settings"]
    return ModelStore.from_url(settings.redis_url, settings.redis_prefix, STORE_TIMEOUT_S)


def _versions() -> tuple[list[Any], str | None]:
    try:
        with _store() as store:
            return store.versions(), None
    except redis.RedisError as exc:
        return [], f"the model store is unreachable: {exc}"


def _reco_health() -> dict[str, Any]:
    """reco-service's readiness and its latency for personal lists, from its /metrics."""
    reco = current_app.extensions["vitrina_reco"]
    headers = {"Authorization": f"Bearer {reco.token}"} if reco.token else {}
    found: dict[str, Any] = {"ready": None, "reason": None, "requests": 0, "mean_ms": None}
    try:
        with httpx.Client(base_url=reco.base_url, headers=headers, timeout=2.0) as client:
            ready = client.get("/ready")
            found["ready"] = ready.status_code == 200
            found["reason"] = ready.json().get("reason")
            metrics = client.get("/metrics")
            metrics.raise_for_status()
    except (httpx.HTTPError, ValueError) as exc:
        found["reason"] = f"unreachable: {exc}"
        return found
    total = count = 0.0
    for family in text_string_to_metric_families(metrics.text):
        for sample in family.samples:
            if sample.labels.get("endpoint") != RECOMMENDATIONS:
                continue
            if sample.name == "reco_request_duration_seconds_sum":
                total += sample.value
            elif sample.name == "reco_request_duration_seconds_count":
                count += sample.value
    found["requests"] = int(count)
    found["mean_ms"] = total / count * 1000 if count else None
    return found


def _redis_memory() -> str | None:
    try:
        with _store() as store:
            return store.client.info("memory").get("used_memory_human")
    except redis.RedisError:
        return None


@bp.get("/")
def dashboard() -> str:
    db = get_db()
    versions, store_error = _versions()
    return render_template(
        "admin/dashboard.html",
        versions=versions,
        store_error=store_error,
        experiments=experiments.listed(db),
        reco=_reco_health(),
        redis_memory=_redis_memory(),
        last_event=db.scalar(select(func.max(events.c.utc_event_time))),
        log_failures=get_log().failed_rows,
    )


@bp.post("/models/<path:version>/activate")
def activate(version: str) -> ResponseReturnValue:
    try:
        with _store() as store:
            store.activate(version)
        flash(f"Model version {version} is active.")
    except (PublishError, redis.RedisError) as exc:
        flash(f"Not activated: {exc}", "error")
    return redirect(url_for("admin.dashboard"))


@bp.post("/models/rollback")
def rollback() -> ResponseReturnValue:
    try:
        with _store() as store:
            flash(f"Rolled back to model version {store.rollback()}.")
    except (PublishError, redis.RedisError) as exc:
        flash(f"Not rolled back: {exc}", "error")
    return redirect(url_for("admin.dashboard"))


def _sync_pins() -> None:
    db = get_db()
    versions = experiments.pinned_versions(db)
    try:
        experiments.publish_pins(current_app.extensions["vitrina_settings"], versions)
    except redis.RedisError as exc:
        if versions:
            flash(f"The trainer could not be told to keep {sorted(versions)}: {exc}", "error")


@bp.post("/experiments")
def create_experiment() -> ResponseReturnValue:
    form = request.form
    try:
        variants = [
            experiments.VariantSpec(
                form.get(f"name{i}", "").strip(),
                form.get(f"strategy{i}", "").strip(),
                int(form.get(f"share{i}", "0")),
                int(form.get(f"k{i}", "12")),
            )
            for i in (0, 1)
        ]
        db = get_db()
        experiments.create(db, form.get("name", "").strip(), variants)
        db.commit()
    except ValueError as exc:  # ExperimentError, or a share that is not a number
        flash(f"Not created: {exc}", "error")
        return redirect(url_for("admin.dashboard"))
    _sync_pins()
    flash(f"Experiment {form['name'].strip()} is running.")
    return redirect(url_for("admin.experiment", name=form["name"].strip()))


@bp.post("/experiments/<name>/stop")
def stop_experiment(name: str) -> ResponseReturnValue:
    db = get_db()
    try:
        experiments.stop(db, name)
        db.commit()
    except experiments.ExperimentError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.dashboard"))
    _sync_pins()
    flash(f"Experiment {name} is stopped.")
    return redirect(url_for("admin.experiment", name=name))


@bp.get("/experiments/<name>")
def experiment(name: str) -> str:
    db = get_db()
    try:
        experiments.get(db, name)
    except experiments.ExperimentError:
        abort(404)
    window = timedelta(hours=current_app.extensions["vitrina_settings"].attribution_window_h)
    report = kpis.report(db, name, window)
    plots = {
        "conversion": charts.lines(report.timeline, "conversion", percent=True),
        "revenue_per_visitor": charts.lines(report.timeline, "revenue_per_visitor"),
    }
    return render_template("admin/experiment.html", report=report, plots=plots, isnan=math.isnan)
