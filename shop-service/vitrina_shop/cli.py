"""`vitrina-shop`: serve the shop with gunicorn; `vitrina-shop init` creates and fills its DB."""

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.http import wsgi as gunicorn_wsgi
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from vitrina_shared.catalog import CatalogReadError
from vitrina_shared.events import EventReadError
from vitrina_shared.settings import settings_problem
from vitrina_shop import commands as management
from vitrina_shop import create_app
from vitrina_shop.db import engine_of, initialize, prepare
from vitrina_shop.settings import ShopSettings


class ShopServer(BaseApplication):
    """gunicorn run from Python: each worker builds its own app (own DB pool, own reco client)."""

    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()
        hide_server_header()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # One thread more than connections: a hung database never holds all of them.
        return create_app({"DB_CONNECTIONS": max(1, self.options["threads"] - 1)})


def hide_server_header() -> None:
    """Gunicorn writes `Server.

    Gunicorn` itself, with no setting to stop it; naming the server helps only an attacker, so its
    default headers are filtered.
    """
    if getattr(gunicorn_wsgi.Response.default_headers, "vitrina_filtered", False):
        return
    original = gunicorn_wsgi.Response.default_headers

    def default_headers(response: gunicorn_wsgi.Response) -> list[str]:
        return [line for line in original(response) if not line.startswith("Server:")]

    default_headers.vitrina_filtered = True
    gunicorn_wsgi.Response.default_headers = default_headers


def database_problem(app: Flask, exc: OperationalError) -> str:
    """Which database (password hidden) and the driver's first line, instead of a traceback."""
    url = engine_of(app).url.render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return f"cannot use the database {url}: {reason}"


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vitrina-shop", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="processes (default: %(default)s)"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    commands = parser.add_subparsers(dest="command")
    init = commands.add_parser("init", help="create the tables and import the data (idempotent)")
    init.add_argument("--items", type=Path, help="items.csv (default: $ITEMS)")
    init.add_argument(
        "--events", type=Path, nargs="*", default=[], help="event files (default: $EVENTS)"
    )
    management.add_parsers(commands)
    args = parser.parse_args(argv)
    # Warnings only (the reco fallback's line among them); the workers inherit this.
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        ShopSettings()
    except ValidationError as exc:  # one line in the container's log, no traceback
        parser.exit(2, f"vitrina-shop: error: {settings_problem(exc)}\n")

    if args.command in management.COMMANDS:
        app = create_app()
        try:
            sys.exit(management.run(app, args))
        finally:
            engine_of(app).dispose()
    if args.command == "init":
        app = create_app()
        settings = app.extensions["vitrina_settings"]
        events = args.events or settings.events_to_import
        try:
            print(initialize(app, args.items or settings.items_to_import, events), flush=True)
        except (CatalogReadError, EventReadError) as exc:
            parser.exit(1, f"vitrina-shop init: {exc}\n")
        except OperationalError as exc:
            parser.exit(1, f"vitrina-shop init: {database_problem(app, exc)}\n")
        finally:
            engine_of(app).dispose()
        return
    app = create_app()
    try:
        report = prepare(app)
    except (CatalogReadError, EventReadError) as exc:
        parser.exit(1, f"vitrina-shop: cannot import the data: {exc}\n")
    except OperationalError as exc:
        parser.exit(1, f"vitrina-shop: {database_problem(app, exc)}\n")
    if report is not None:
        print(f"imported the data into an empty shop: {report}", flush=True)
    engine_of(app).dispose()  # each worker opens its own pool after the fork
    ShopServer(
        {
            "bind": f"{args.host}:{args.port}",
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": "gthread",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "timeout": 30,
            "graceful_timeout": 5,
            # A fixed socket in $HOME would collide between two shops on one machine.
            "control_socket_disable": True,
        }
    ).run()


if __name__ == "__main__":
    main()
