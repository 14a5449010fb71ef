"""Reporting the shop's events to reco-service's `POST /events`, without a page ever waiting.

Pages put events on a bounded in-process queue; one daemon thread per worker process drains it
in batches of at most 100 with the reco client's short timeout. A batch that fails, and an event
that finds the queue full, are dropped and counted (a missed view only makes one list less
fresh); the first drop of each kind is logged, the rest only counted.
"""

import logging
import os
import queue
import threading
from datetime import datetime

import httpx
from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION = "vitrina_events"
GUEST_PREFIX = "guest-"  # visitor.new_id("guest"): customer ids never start so (reco's README)
MAX_BATCH = 100
QUEUE_SIZE = 10_000


class EventReporter:
    def __init__(self, base_url: str, timeout_s: float, token: str | None):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.token = token
        self.dropped = 0
        self.sent = 0
        self._queue: queue.Queue[dict[str, str]] = queue.Queue(QUEUE_SIZE)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._logged: set[str] = set()

    def report(self, shopper_id: str, event_type: str, item_ids: list[str], at: datetime) -> None:
        """Queue one event per product; never blocks (a full queue drops them)."""
        who = "visitor_id" if shopper_id.startswith(GUEST_PREFIX) else "user_id"
        self._start()
        for item_id in item_ids:
            event = {who: shopper_id, "item_id": item_id, "event_type": event_type}
            try:
                self._queue.put_nowait({**event, "time": at.isoformat()})
            except queue.Full:
                self._drop(1, "the queue is full")

    def _start(self) -> None:
        # One thread per process, started on first use: a forked gunicorn worker starts its own.
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._drain, name="reco-events", daemon=True).start()

    def _drain(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(self.timeout_s)
        ) as client:
            while True:
                batch = [self._queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self._post(client, batch)

    def _post(self, client: httpx.Client, batch: list[dict[str, str]]) -> None:
        try:
            client.post("/events", json={"events": batch}).raise_for_status()
        except httpx.HTTPError as exc:
            self._drop(len(batch), f"reco-service failed ({type(exc).__name__}: {exc})")
            return
        self.sent += len(batch)

    def _drop(self, count: int, why: str) -> None:
        kind = why.split(" (")[0]
        with self._lock:
            self.dropped += count
            first = kind not in self._logged
            self._logged.add(kind)
        if first:
            log.warning("events to reco-service dropped: %s; further drops are only counted", why)


def get_reporter() -> EventReporter:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = EventReporter(
        app.config["RECO_URL"], app.config["RECO_TIMEOUT_MS"] / 1000, app.config["RECO_API_TOKEN"]
    )
