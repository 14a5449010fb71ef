"""The exposure log: every recommendation block rendered (an impression) and every click on one.

Rows go to a buffer and a writer thread inserts them in batches, so a page pays for an append, not
for a database write, and a failing write never reaches the page or an order: it is logged and
counted (`failed_rows`; the dashboard shows it). What is still buffered when a worker dies is lost:
at most a second of analytics, never an order. Rows shown before `vitrina-shop init` (or the
server's own start) created the log's tables wait in the buffer until they exist instead of
failing; once a batch was written, a missing table is a failure like any other.

A link in a recommendation block carries `?r=` — the impression and the position, signed for that
product — so the product page can tell a recommended click from any other visit; every other link
to a product stays the same URL and caches as before.

`SHOP_EXPOSURE_LOG=false` turns it off: blocks link like any other list and nothing is queued
(what `make bench-shop` compares against; experiments' reports then have nothing to count).
"""

import atexit
import functools
import hashlib
import hmac
import logging
import os
import random
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, current_app, g, request
from itsdangerous import Signer
from sqlalchemy import Connection, Engine, Table, TextClause, inspect, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError

from vitrina_shop import experiments
from vitrina_shop.db import is_sqlite_in_memory, make_engine
from vitrina_shop.models import Impression, RecoClick
from vitrina_shop.recommendations import Block
from vitrina_shop.visitor import visitor_id

log = logging.getLogger(__name__)

EXTENSION = "vitrina_exposure"
REFERENCE_KEY = "vitrina_exposure_reference_key"
REFERENCE_SALT = "vitrina-reco-click:"
SIGNATURE_BYTES = 12  # 96 bits: a forged click needs 2^95 tries on average
BATCH_ROWS = 500
CAPACITY = 50_000
MAX_REF_LENGTH = 100
TABLES = (Impression.__table__, RecoClick.__table__)


class ExposureLog:
    """A buffer of rows and the thread that writes them; one per worker process.

    Request threads only append to a deque (no lock, nothing woken): a queue that woke the
    writer on every row made it contend with the request threads for the interpreter lock on
    every page. The writer wakes once per `flush_interval_s`, or on `flush`, and writes what
    accumulated.
    """

    def __init__(self, engine: Engine, flush_interval_s: float = 1.0, owns_engine: bool = False):
        self.engine = engine
        self.owns_engine = owns_engine
        self.flush_interval_s = flush_interval_s
        self.failed_rows = 0
        # Once a batch reached the tables, a missing one is a failure, no longer a server
        # started before `vitrina-shop init`.
        self._written = False
        self._pid = -1
        self._lock = threading.Lock()
        self._rows: deque[tuple[Table, dict[str, Any]] | threading.Event] = deque()
        self._wake = threading.Event()

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self._ensure_writer()
        if len(self._rows) >= CAPACITY:
            self._failed(1, "the exposure log's buffer is full")
        else:
            self._rows.append((table, row))

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every row added before is written (or has failed): for tests and shutdown."""
        if self._pid != os.getpid():
            return
        done = threading.Event()
        self._rows.append(done)
        self._wake.set()
        done.wait(timeout_s)

    def _ensure_writer(self) -> None:
        # Started on first use in each process: a thread does not survive gunicorn's fork.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                if self.owns_engine:  # a parent's connections are not this process's to use
                    self.engine.dispose(close=False)
                self._rows = deque()
                self._wake = threading.Event()
                threading.Thread(target=self._run, name="exposure-log", daemon=True).start()
                atexit.register(self.flush, 2.0)
                self._pid = os.getpid()

    def _failed(self, rows: int, why: object) -> None:
        self.failed_rows += rows
        log.warning("exposure log: %d row(s) not written (%s)", rows, why)

    def _tables_missing(self) -> bool:
        """True only when the database answers and lacks one of the log's tables."""
        try:
            with self.engine.connect() as connection:
                found = inspect(connection)
                return not all(found.has_table(table.name) for table in TABLES)
        except SQLAlchemyError:
            return False

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval_s)
            self._wake.clear()
            while self._rows:
                batch: list[tuple[Table, dict[str, Any]]] = []
                flushed: list[threading.Event] = []
                while self._rows and len(batch) < BATCH_ROWS:
                    item = self._rows.popleft()
                    if isinstance(item, threading.Event):
                        flushed.append(item)
                    else:
                        batch.append(item)
                while batch and not self._write(batch):
                    time.sleep(self.flush_interval_s)
                for done in flushed:
                    done.set()

    def _write(self, batch: list[tuple[Table, dict[str, Any]]]) -> bool:
        """Insert a batch: True once written or counted as failed, False to try it again later.

        Until a first batch is written, one that finds the log's tables missing is kept: the
        server started before `vitrina-shop init` created them, which is no failure.
        """
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for table, row in batch:
            by_table.setdefault(table, []).append(row)
        try:
            with self.engine.begin() as connection:
                for table, rows in by_table.items():
                    insert_rows(connection, table, rows)
        except Exception as exc:  # any failure is counted; none may stop the writer
            if not self._written and self._tables_missing():
                return False
            self._failed(len(batch), f"{type(exc).__name__}: {exc}")
            return True
        self._written = True
        return True


@functools.lru_cache(maxsize=64)
def _json_insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> TextClause:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    if dialect.name == "postgresql":
        source = f"json_populate_recordset(NULL::{target}, CAST(:rows AS json))"
        return text(f"INSERT INTO {target} ({names}) SELECT {names} FROM {source}")
    values = ", ".join(f"json_extract(value, '$.{name}')" for name in columns)
    return text(f"INSERT INTO {target} ({names}) SELECT {values} FROM json_each(:rows)")


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """One INSERT … SELECT over the rows as a JSON array.

    One statement, so one call into the driver per batch: the sqlite3 module's executemany lets
    go of the interpreter lock for every row and takes it back, and under load each time the
    request threads waited for it. Values go through the column types' own bind processing
    (SQLite's text form of a date), as an ORM insert would.
    """
    dialect = connection.dialect
    columns = tuple(rows[0])
    processors = {
        name: processor
        for name in columns
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
        is not None
    }
    if processors:
        rows = [
            {**row, **{name: process(row[name]) for name, process in processors.items()}}
            for row in rows
        ]
    statement = _json_insert_sql(table, columns, dialect)
    connection.execute(statement, {"rows": orjson.dumps(rows).decode()})


def get_log() -> ExposureLog:
    return current_app.extensions[EXTENSION]


def _signature(key: bytes, product_id: str, impression: str, position: int | str) -> str:
    """Keyed BLAKE2b (a MAC by design) of the product, bound to an impression and a position.

    96 bits in hex, from one C call that keeps the interpreter lock. A page signs 24 references.
    itsdangerous's Signer derives its key again for each and builds two HMAC objects in Python
    (0.13 ms a page, most of what the log added to it); OpenSSL's one-call `hmac.digest` lets go
    of the lock, and under load every page then waited for it back 24 times (in-process, 4
    threads: +24 % CPU per page; with BLAKE2b none measurable).
    """
    message = f"{product_id}.{impression}.{position}".encode()
    return hashlib.blake2b(message, key=key, digest_size=SIGNATURE_BYTES).hexdigest()


def impression_id() -> str:
    """Milliseconds since 1970 then 32 random bits, in hex.

    Ordered by time, and two blocks of the same millisecond share an id once in billions. The
    bits come from `random`, reseeded in every forked worker: ids are no secret (references are
    signed), and `os.urandom` lets go of the interpreter lock, so under load each call handed it
    to another thread and the page waited for it back (py-spy: 4 % of a loaded worker's samples).
    """
    return f"{time.time_ns() // 1_000_000:011x}{random.getrandbits(32):08x}"


def _request_id() -> str:
    if "request_id" not in g:
        g.request_id = f"{random.getrandbits(64):016x}"
    return g.request_id


def shown(block: Block, name: str) -> list[str]:
    """Record one impression of `block` and return each product's signed reference (`?r=`).

    Called by the template macro that renders a recommendation block, so every block on a page
    is recorded exactly once, with what the visitor actually saw.
    """
    if not block.products or not current_app.config["EXPOSURE_LOG"]:
        return []
    impression = impression_id()
    key = current_app.extensions[REFERENCE_KEY]
    assigned = experiments.current()
    items = [product.id for product in block.products]
    get_log().add(
        Impression.__table__,
        {
            "id": impression,
            "request_id": _request_id(),
            "visitor_id": visitor_id(),
            "block": name,
            "items": orjson.dumps(items).decode(),
            "source": block.source,
            "model_version": block.version,
            "experiment": assigned.experiment if assigned else None,
            "variant": assigned.variant.name if assigned else None,
            "created_at": datetime.now(UTC),
        },
    )
    return [
        f"{impression}.{position}.{_signature(key, product_id, impression, position)}"
        for position, product_id in enumerate(items)
    ]


def clicked(product_id: str) -> None:
    """On a product page: a valid `?r=` is a click on a recommendation; anything else is ignored."""
    ref = request.args.get("r", "")
    if not ref or len(ref) > MAX_REF_LENGTH or not current_app.config["EXPOSURE_LOG"]:
        return
    impression, _, rest = ref.partition(".")
    position, _, signature = rest.partition(".")
    if not (position.isdecimal() and position.isascii()):
        return
    key = current_app.extensions[REFERENCE_KEY]
    expected = _signature(key, product_id, impression, position)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return
    get_log().add(
        RecoClick.__table__,
        {
            "impression_id": impression,
            "position": int(position),
            "visitor_id": visitor_id(),
            "product_id": product_id,
            "created_at": datetime.now(UTC),
        },
    )


def log_engine(engine: Engine) -> Engine:
    """Where the log writes: an engine of its own with one connection (SQLite in memory: the app's).

    Only the writer thread uses it. On the app's pool, which the server keeps below its thread
    count, the writer took a connection a page was waiting for, and a page whose wait passes the
    pool timeout gets a 503 (PostgreSQL, 32 connections in `make bench-shop`: wrk counted 572
    failed pages with the log on, none with it off). Its commits do
    not wait for the disk (`durable=False`): the log already gives up its last second on a crash
    so that no page waits on it, and SQLite's one write lock, which orders and carts need, is not
    held through an fsync for analytics. Orders and carts keep every commit synced.
    """
    if is_sqlite_in_memory(engine):
        return engine
    url = engine.url.render_as_string(hide_password=False)
    return make_engine(url, connections=1, durable=False)


def init_app(app: Flask, engine: Engine) -> None:
    own = log_engine(engine)
    app.extensions[EXTENSION] = ExposureLog(own, owns_engine=own is not engine)
    # The key is derived from the secret once, the way itsdangerous derives its own.
    app.extensions[REFERENCE_KEY] = Signer(
        app.config["SECRET_KEY"], salt=REFERENCE_SALT
    ).derive_key()
    app.jinja_env.globals["recommendation_refs"] = shown
