"""The database: one engine per app, one session per request (the shape of flaskr/db.py)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from vitrina_shop.importer import ImportReport, import_data
from vitrina_shop.models import Base, Product

EXTENSION = "vitrina_db"


def make_engine(url: str) -> Engine:
    """SQLite gets WAL and a busy timeout so gunicorn's workers can write side by side."""
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


# Columns added to tables after their first release: databases made before get them at start.
ADDED_COLUMNS = (("orders", "checkout_key", "VARCHAR(64)", "ix_orders_checkout_key"),)


def create_tables(engine: Engine) -> None:
    """Create what is missing; existing tables and rows are kept (safe to run again)."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for table, column, sql_type, unique_index in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
                conn.execute(text(f"CREATE UNIQUE INDEX {unique_index} ON {table} ({column})"))


def get_db() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = current_app.extensions[EXTENSION]()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """At teardown, and before the 500 page: after a failed statement the session refuses every
    query, so the error page's header gets a fresh one. Closing rather than rolling back keeps
    the products the app caches across requests readable (a rollback would expire them)."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (CLI, tests) that commits on success."""
    with app.extensions[EXTENSION].begin() as session:
        yield session


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["vitrina_engine"] = engine
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)


def engine_of(app: Flask) -> Engine:
    return app.extensions["vitrina_engine"]


def initialize(app: Flask, items: Path | None, event_paths: Sequence[Path]) -> ImportReport:
    """Create the tables and import the data in one transaction; safe to run again."""
    create_tables(engine_of(app))
    with session_scope(app) as session:
        return import_data(session, items, event_paths)


def prepare(app: Flask) -> ImportReport | None:
    """Before serving: the tables must exist; an empty catalog is filled from DATA_DIR's data."""
    create_tables(engine_of(app))
    settings = app.extensions["vitrina_settings"]
    items, event_paths = settings.items_to_import, settings.events_to_import
    with session_scope(app) as session:
        if session.scalar(select(Product.id).limit(1)) is not None:
            return None
        if not (items or event_paths):
            return None
        return import_data(session, items, event_paths)


@click.command("init-db")
@click.option("--items", type=click.Path(exists=True, path_type=Path), help="items.csv")
@click.option(
    "--events", multiple=True, type=click.Path(exists=True, path_type=Path), help="event files"
)
@with_appcontext
def init_db_command(items: Path | None, events: tuple[Path, ...]) -> None:
    """Create the tables and import the catalog and the data's customers (idempotent)."""
    settings = current_app.extensions["vitrina_settings"]
    paths = list(events) or settings.events_to_import
    click.echo(initialize(current_app, items or settings.items_to_import, paths))
