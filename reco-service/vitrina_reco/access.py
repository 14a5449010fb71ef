"""The access log and the request metrics, as one plain ASGI middleware (no per-request task)."""

import logging
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vitrina_reco.metrics import RecoMetrics
from vitrina_shared.log_format import escape_controls

SOURCE = "vitrina.source"
ENDPOINT = "vitrina.endpoint"
UNMATCHED = "unmatched"
NONE = "-"

ACCESS_LOGGER = "vitrina_reco.access"
log = logging.getLogger(ACCESS_LOGGER)


def set_source(scope: Scope, source: str) -> None:
    """Name what answered the request (`personal`, `popular`, …) for the log and the metrics."""
    scope[SOURCE] = source


def set_endpoint(scope: Scope, path: str) -> None:
    """Name the route template answering outside FastAPI's routing (which names its own)."""
    scope[ENDPOINT] = path


class AccessMiddleware:
    def __init__(self, app: ASGIApp, metrics: RecoMetrics, access_log: bool = True):
        self.app, self.metrics, self.access_log = app, metrics, access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            route: Any = scope.get("route")
            endpoint = scope.get(ENDPOINT) or getattr(route, "path", UNMATCHED)
            source = scope.get(SOURCE, NONE)
            self.metrics.observe(endpoint, source, status, seconds)
            if self.access_log:
                self._log(scope, status, source, seconds)

    @staticmethod
    def _log(scope: Scope, status: int, source: str, seconds: float) -> None:
        client = scope.get("client")
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": scope["method"],
            # JSON escapes ASCII controls but not U+0085, U+2028 or bidi overrides: escape all.
            "path": escape_controls(scope["path"]),
            "query": escape_controls(scope["query_string"].decode("latin-1")),
            "status": status,
            "source": source,
            "ms": round(seconds * 1000, 3),
            "client": client[0] if client else None,
        }
        log.info(orjson.dumps(record).decode())
