"""The database: one engine per app, one session per request (the shape of flaskr/db.py)."""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext
from sqlalchemy import Engine, create_engine, event, inspect, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from vitrina_shop import statement_deadline
from vitrina_shop.importer import ImportReport, import_data
from vitrina_shop.models import Base, Product

EXTENSION = "vitrina_db"
RESTING_UNTIL = "vitrina_db_resting_until"
AFTER_COMMIT = "vitrina_after_commit"

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_S = 5.0
SQLITE_BUSY_TIMEOUT_MS = 5000
# When the database fails to answer, requests that need it get a 503 at once for a few seconds
# instead of each waiting out a deadline of its own: the worker threads stay free for the
# pages that need no database (health, static files, placeholder images).
REST_S = 5.0
# With a pool smaller than the worker's threads, a hung database holds some threads, never all:
# a request finding every connection busy waits this long, then the database rests.
POOL_TIMEOUT_S = 1.0


class DatabaseUnavailableError(Exception):
    """The database failed or timed out a moment ago; the shop answers 503 until it rests."""


def make_engine(
    url: str,
    statement_timeout_s: float = STATEMENT_TIMEOUT_S,
    connections: int | None = None,
    durable: bool = True,
) -> Engine:
    """Every wait on the database is bounded.

    PostgreSQL: a connect timeout, a server-side statement_timeout, and a client-side deadline a
    second later for a server or network that hangs (and no pre-ping, which would wait outside that
    deadline: a connection the server dropped fails one request with a 503 and the pool is renewed);
    SQLite: WAL and a busy timeout so gunicorn's workers can write side by side. `durable=False`
    commits without waiting for the disk (SQLite's synchronous=NORMAL, PostgreSQL's
    synchronous_commit=off): a crash of the machine may lose the last commits, never corrupt the
    database — for the exposure log, never for orders.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(url, statement_timeout_s, connections, durable)
    engine = create_engine(url)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if not durable:
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def is_sqlite_in_memory(engine: Engine) -> bool:
    """A SQLite database in memory: a second engine on its URL would open another, empty one."""
    database = engine.url.database or ""
    in_memory = not database or ":memory:" in database or engine.url.query.get("mode") == "memory"
    return engine.dialect.name == "sqlite" and in_memory


def _postgresql_engine(
    url: str, statement_timeout_s: float, connections: int | None, durable: bool
) -> Engine:
    parsed = make_url(url)
    options = parsed.query.get("options", "")
    timeout_ms = int(statement_timeout_s * 1000)
    if not durable:
        options = f"{options} -c synchronous_commit=off"
    pool = {} if connections is None else {"pool_size": connections, "max_overflow": 0}
    engine = create_engine(
        url,
        pool_timeout=POOL_TIMEOUT_S,
        **pool,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": f"{options} -c statement_timeout={timeout_ms}".strip(),
        },
    )
    statement_deadline.watch(engine, statement_timeout_s + 1.0)
    return engine


# Columns added to tables after their first release: databases made before get them at start.
ADDED_COLUMNS = (
    (
        "orders",
        "checkout_key",
        "VARCHAR(64)",
        "ix_orders_checkout_key ON orders (user_id, checkout_key)",
    ),
)


def create_tables(engine: Engine) -> None:
    """Create what is missing; existing tables and rows are kept (safe to run again)."""
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        for table, column, sql_type, unique_index in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))
                conn.execute(text(f"CREATE UNIQUE INDEX {unique_index}"))


def get_db() -> Session:
    """The request's session, opened on first use and closed at teardown.

    None while the database rests after a failure (DatabaseUnavailableError, a 503).
    """
    if "db" not in g:
        if time.monotonic() < current_app.extensions[RESTING_UNTIL]:
            raise DatabaseUnavailableError
        g.db = current_app.extensions[EXTENSION]()
    return g.db


def is_contention(error: Exception) -> bool:
    """SQLite's write lock held past its busy timeout: the database answers, it is only busy.

    Resting it would turn a burst of writes into an outage. A pool timeout is not counted here:
    on a server database it is how a hung server first shows, and resting is what keeps the
    worker threads free then.
    """
    return "database is locked" in str(error)


def rest(app: Flask) -> None:
    """The database just failed to answer: spare it (and our threads) for REST_S seconds."""
    app.extensions[RESTING_UNTIL] = time.monotonic() + app.config["DB_REST_S"]


def close_db(_exc: BaseException | None = None) -> None:
    """At teardown, and before the 500 page.

    After a failed statement the session refuses every query, so the error page's header gets a
    fresh one. Closing rather than rolling back keeps the products the app caches across requests
    readable (a rollback would expire them).
    """
    db = g.pop("db", None)
    if db is not None:
        db.close()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the session's transaction has committed; a rollback drops it.

    For what must not happen for a change that never was: reco-service told of a purchase whose
    order was rolled back would re-rank the shopper's list by it.
    """
    session.info.setdefault(AFTER_COMMIT, []).append(action)


def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(AFTER_COMMIT, []):
        action()


def _drop_after_commit(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)


@contextmanager
def session_scope(app: Flask) -> Iterator[Session]:
    """A session outside a request (CLI, tests) that commits on success."""
    with app.extensions[EXTENSION].begin() as session:
        yield session


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"],
        app.config["DB_STATEMENT_TIMEOUT_S"],
        app.config["DB_CONNECTIONS"],
    )
    app.extensions[RESTING_UNTIL] = 0.0
    sessions = sessionmaker(engine, expire_on_commit=False)
    event.listen(sessions, "after_commit", _run_after_commit)
    event.listen(sessions, "after_rollback", _drop_after_commit)
    app.extensions[EXTENSION] = sessions
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
