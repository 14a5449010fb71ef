"""`/health` for the container's healthcheck: the process answers and its database does."""

import logging

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vitrina_shop.db import get_db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/health")
def health() -> tuple[dict[str, str], int]:
    try:
        get_db().execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health: the database does not answer (%s)", exc)
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
