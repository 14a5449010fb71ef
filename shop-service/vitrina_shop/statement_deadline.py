"""A client-side deadline for every statement, for a database that hangs rather than fails.

PostgreSQL's statement_timeout ends a slow query, but a frozen server or a stalled network
answers nothing at all, and the driver would wait forever with a worker thread. One watcher
thread per engine shuts the socket of a statement that outlives its deadline; the driver then
fails at once, SQLAlchemy invalidates the connection and the request becomes a fast 503.
"""

import contextlib
import os
import socket
import threading
import time

from sqlalchemy import Engine, event

POLL_S = 0.1


class StatementDeadline:
    def __init__(self, engine: Engine, deadline_s: float):
        self.deadline_s = deadline_s
        self._running: dict[int, tuple[float, int]] = {}  # id(dbapi conn) → (deadline, socket fd)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.expired = 0
        event.listen(engine, "before_cursor_execute", self._started)
        event.listen(engine, "after_cursor_execute", self._ended)
        event.listen(engine, "handle_error", self._failed)
        event.listen(engine, "engine_disposed", lambda _engine: self._stopped.set())
        threading.Thread(target=self._watch, name="statement-deadline", daemon=True).start()

    def _started(self, conn, _cursor, *_args) -> None:
        raw = conn.connection.dbapi_connection
        with self._lock:
            self._running[id(raw)] = (time.monotonic() + self.deadline_s, raw.fileno())

    def _ended(self, conn, *_args) -> None:
        with self._lock:
            self._running.pop(id(conn.connection.dbapi_connection), None)

    def _failed(self, context) -> None:
        if context.connection is not None and context.connection.connection is not None:
            with self._lock:
                self._running.pop(id(context.connection.connection.dbapi_connection), None)

    def _watch(self) -> None:
        while not self._stopped.wait(POLL_S):
            now = time.monotonic()
            with self._lock:  # held while duplicating: the statement cannot end meanwhile
                late = [key for key, (deadline, _) in self._running.items() if deadline < now]
                duplicates = [_duplicate(self._running.pop(key)[1]) for key in late]
            for fd in duplicates:
                self.expired += 1
                _shut(fd)


def _duplicate(fd: int) -> int | None:
    try:
        return os.dup(fd)
    except OSError:
        return None


def _shut(fd: int | None) -> None:
    """Shut the socket down both ways through a duplicate of its descriptor.

    The driver's own descriptor (and its number) stays in the driver's hands.
    """
    if fd is None:
        return
    with socket.socket(fileno=fd) as sock, contextlib.suppress(OSError):  # closed already
        sock.shutdown(socket.SHUT_RDWR)


def watch(engine: Engine, deadline_s: float) -> StatementDeadline:
    return StatementDeadline(engine, deadline_s)
