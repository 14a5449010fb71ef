"""The exposure log: every recommendation block rendered (an impression) and every click on one.

Rows go to a queue and a writer thread inserts them in batches, so a page pays for a `put`, not
for a database write, and a failing write never reaches the page or an order: it is logged and
counted (`failed_rows`; the dashboard shows it). What is still queued when a worker dies is lost —
at most a second of analytics, never an order. Rows shown before `vitrina-shop init` (or the
server's own start) created the log's tables wait in the queue until they exist instead of
failing; once a batch was written, a missing table is a failure like any other.

A link in a recommendation block carries `?r=` — the impression and the position, signed for that
product — so the product page can tell a recommended click from any other visit; every other link
to a product stays the same URL and caches as before.

`SHOP_EXPOSURE_LOG=false` turns it off: blocks link like any other list and nothing is queued
(what `make bench-shop` compares against; experiments' reports then have nothing to count).
"""

import atexit
import contextlib
import logging
import os
import queue
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, current_app, g, request
from itsdangerous import BadSignature, Signer
from sqlalchemy import Engine, Table, insert, inspect
from sqlalchemy.exc import SQLAlchemyError

from vitrina_shop import experiments
from vitrina_shop.models import Impression, RecoClick
from vitrina_shop.recommendations import Block
from vitrina_shop.visitor import visitor_id

log = logging.getLogger(__name__)

EXTENSION = "vitrina_exposure"
SIGNER_SALT = "vitrina-reco-click:"
BATCH_ROWS = 500
CAPACITY = 50_000
MAX_REF_LENGTH = 100
TABLES = (Impression.__table__, RecoClick.__table__)
FLUSH = None  # queued by `flush`: write what came before it now


class ExposureLog:
    """A queue of rows and the thread that writes them; one per worker process."""

    def __init__(self, engine: Engine, flush_interval_s: float = 1.0):
        self.engine = engine
        self.flush_interval_s = flush_interval_s
        self.failed_rows = 0
        # Once a batch reached the tables, a missing one is a failure, no longer a server
        # started before `vitrina-shop init`.
        self._written = False
        self._pid = -1
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Table, dict[str, Any]] | None] = queue.Queue(CAPACITY)

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self._ensure_writer()
        try:
            self._queue.put_nowait((table, row))
        except queue.Full:
            self._failed(1, "the exposure log's queue is full")

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued row is written (or has failed): for tests and shutdown."""
        if self._pid != os.getpid():
            return
        with contextlib.suppress(queue.Full):  # a full queue is written at once anyway
            self._queue.put_nowait(FLUSH)
        done = threading.Event()
        threading.Thread(target=lambda: (self._queue.join(), done.set()), daemon=True).start()
        done.wait(timeout_s)

    def _ensure_writer(self) -> None:
        # Started on first use in each process: a thread does not survive gunicorn's fork.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue(CAPACITY)
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
            batch = [self._queue.get()]
            # Written a second after its first row at the latest, or sooner when full or flushed.
            deadline = time.monotonic() + self.flush_interval_s
            try:
                while (
                    batch[-1] is not FLUSH
                    and len(batch) < BATCH_ROWS
                    and (left := deadline - time.monotonic()) > 0
                ):
                    batch.append(self._queue.get(timeout=left))
            except queue.Empty:
                pass
            rows = [item for item in batch if item is not FLUSH]
            while rows and not self._write(rows):
                time.sleep(self.flush_interval_s)
            for _ in batch:
                self._queue.task_done()

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
                    connection.execute(insert(table), rows)
        except Exception as exc:  # any failure is counted; none may stop the writer
            if not self._written and self._tables_missing():
                return False
            self._failed(len(batch), f"{type(exc).__name__}: {exc}")
            return True
        self._written = True
        return True


def get_log() -> ExposureLog:
    return current_app.extensions[EXTENSION]


def _signer(product_id: str) -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt=SIGNER_SALT + product_id)


def impression_id() -> str:
    """Milliseconds since 1970 then 32 random bits, in hex.

    Ordered by time, and two blocks of the same millisecond share an id once in billions.
    """
    return f"{time.time_ns() // 1_000_000:011x}{secrets.token_hex(4)}"


def _request_id() -> str:
    if "request_id" not in g:
        g.request_id = secrets.token_hex(8)
    return g.request_id


def shown(block: Block, name: str) -> list[str]:
    """Record one impression of `block` and return each product's signed reference (`?r=`).

    Called by the template macro that renders a recommendation block, so every block on a page
    is recorded exactly once, with what the visitor actually saw.
    """
    if not block.products or not current_app.config["EXPOSURE_LOG"]:
        return []
    impression = impression_id()
    assigned = experiments.current()
    get_log().add(
        Impression.__table__,
        {
            "id": impression,
            "request_id": _request_id(),
            "visitor_id": visitor_id(),
            "block": name,
            "items": orjson.dumps([p.id for p in block.products]).decode(),
            "source": block.source,
            "model_version": block.version,
            "experiment": assigned.experiment if assigned else None,
            "variant": assigned.variant.name if assigned else None,
            "created_at": datetime.now(UTC),
        },
    )
    return [
        _signer(product.id).sign(f"{impression}.{position}").decode()
        for position, product in enumerate(block.products)
    ]


def clicked(product_id: str) -> None:
    """On a product page: a valid `?r=` is a click on a recommendation; anything else is ignored."""
    ref = request.args.get("r", "")
    if not ref or len(ref) > MAX_REF_LENGTH or not current_app.config["EXPOSURE_LOG"]:
        return
    try:
        impression, position = _signer(product_id).unsign(ref).decode().split(".")
    except (BadSignature, ValueError):
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


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions[EXTENSION] = ExposureLog(engine)
    app.jinja_env.globals["recommendation_refs"] = shown
