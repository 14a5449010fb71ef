"""`/health` for the container's healthcheck.

The process answers, whatever its database does (a hung database must not make the orchestrator kill
a shop that still serves its pages); `/ready` says whether the database answers too.
"""

from flask import Blueprint
from sqlalchemy import text

from vitrina_shop.db import get_db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@bp.get("/ready")
def ready() -> dict[str, str]:
    """A database that fails or hangs is the app's 503 (and its rest), as on any page."""
    get_db().execute(text("SELECT 1"))
    return {"status": "ok"}
