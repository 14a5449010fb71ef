"""`vitrina-reco [--host H --port P --workers N]`: reco-service under uvicorn.

uvloop and httptools (one socket write per response: `protocol.py`); N worker processes share the
port, each with a listening socket of its own (default: the usable cores; `workers.py`).
"""

import argparse
import sys
from typing import Any

import uvicorn
from pydantic import ValidationError

from vitrina_reco.access import ACCESS_LOGGER
from vitrina_reco.settings import RecoSettings
from vitrina_reco.workers import serve
from vitrina_shared.log_format import escape_controls
from vitrina_shared.settings import settings_problem

# Each worker process builds its own app from the environment (uvicorn's factory mode).
APP_FACTORY = "vitrina_reco.app:create_app"
SAFE_FORMATTER = "vitrina_shared.log_format.SafeFormatter"
HTTP_PROTOCOL = "vitrina_reco.protocol:RecoHttpProtocol"


def log_config() -> dict[str, Any]:
    """Logging of every worker.

    Lines on stdout, control characters escaped; access-log lines are whole JSON objects (they carry
    their own time), one per line.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"()": SAFE_FORMATTER, "format": "%(asctime)s %(name)s %(message)s"},
            "access": {"()": SAFE_FORMATTER, "format": "%(message)s"},
        },
        "handlers": {
            "plain": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            ACCESS_LOGGER: {"handlers": ["access"], "level": "INFO", "propagate": False},
            "uvicorn": {"handlers": ["plain"], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["plain"], "level": "INFO"},
    }  # fmt: skip


def settings_or_exit() -> RecoSettings:
    """The settings, or one line on stderr naming what is wrong (no traceback) and exit 2."""
    try:
        return RecoSettings()
    except ValidationError as exc:
        print(f"vitrina-reco: error: {escape_controls(settings_problem(exc))}", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vitrina-reco", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: %(default)s)")
    parser.add_argument(
        "--workers", type=int, help="worker processes (env RECO_WORKERS; default: usable cores)"
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit()
    workers = args.workers if args.workers is not None else settings.workers
    if workers < 1:
        parser.error("--workers must be at least 1")
    config = {
        "app": APP_FACTORY,
        "factory": True,
        "loop": "uvloop",
        "http": HTTP_PROTOCOL,
        "ws": "none",  # no WebSocket routes: an upgrade request is answered as plain HTTP
        "access_log": False,
        "log_level": "warning",
        "log_config": log_config(),
    }
    if workers == 1:
        uvicorn.run(host=args.host, port=args.port, **config)
    else:
        serve(workers, args.host, args.port, **config)
