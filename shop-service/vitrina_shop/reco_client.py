"""The client of reco-service: one pooled httpx.Client per app, registered like flaskr/db.py.

Every call either returns the ranked ids or None — a timeout, a refused connection, a non-2xx
answer or an unreadable body is logged once and never reaches the page as an error. After a
failure of reco-service itself (not a 4xx about one id) the client rests for `retry_after_s`, so
a down reco-service costs one timeout, not one per page.
"""

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
from flask import Flask, current_app

from vitrina_shared.ids import MAX_EXCLUDE, is_valid_id
from vitrina_shared.schema import Columns

log = logging.getLogger(__name__)

EXTENSION = "vitrina_reco"


@dataclass(frozen=True)
class RankedIds:
    """What reco-service answered: item ids best first, which list answered, the model version.

    `reasons` are aligned with `item_ids`: each product's reason code, or "" when it has none.
    """

    item_ids: list[str]
    source: str
    version: str | None
    reasons: list[str] = field(default_factory=list)


class RecoClient:
    def __init__(
        self, base_url: str, timeout_s: float, token: str | None, retry_after_s: float = 2.0
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.token = token
        self.retry_after_s = retry_after_s
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._resting_until = 0.0

    def _http(self) -> httpx.Client:
        # Made on first use, so a forked gunicorn worker never inherits another's sockets.
        with self._lock:
            if self._client is None:
                headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
                self._client = httpx.Client(
                    base_url=self.base_url,
                    headers=headers,
                    timeout=httpx.Timeout(self.timeout_s),
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def recommendations(
        self,
        user_id: str,
        k: int,
        exclude: Sequence[str] = (),
        version: str | None = None,
        visitor_id: str | None = None,
        exclude_bought: bool = False,
    ) -> RankedIds | None:
        """The shopper's list.

        `version`: a kept model version instead of the active one (an experiment's);
        `visitor_id`: the anonymous visitor whose events of today are blended in;
        `exclude_bought`: products new to the customer (the discovery order).
        """
        if not is_valid_id(user_id):
            return None
        params: dict[str, object] = {"k": k}
        if version:
            params["version"] = version
        if visitor_id and is_valid_id(visitor_id):
            params["visitor_id"] = visitor_id
        if exclude_bought:
            params["exclude_bought"] = "true"
        wanted = [item for item in exclude if is_valid_id(item)][:MAX_EXCLUDE]
        if wanted:
            params["exclude"] = ",".join(wanted)
        return self._get(f"/recommendations/{quote(user_id, safe='')}", params)

    def similar(self, item_id: str, k: int) -> RankedIds | None:
        if not is_valid_id(item_id):
            return None
        return self._get(f"/similar/{quote(item_id, safe='')}", {"k": k})

    def popular(self, k: int) -> RankedIds | None:
        return self._get("/popular", {"k": k})

    def _get(self, path: str, params: dict[str, object]) -> RankedIds | None:
        if time.monotonic() < self._resting_until:
            return None
        started = time.perf_counter()
        try:
            response = self._http().get(path, params=params)
            response.raise_for_status()
            body = response.json()
            ids = [str(entry[Columns.ITEM]) for entry in body["items"]]
            reasons = [str(entry.get(Columns.REASON) or "") for entry in body["items"]]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            if not (isinstance(exc, httpx.HTTPStatusError) and exc.response.is_client_error):
                self._resting_until = time.monotonic() + self.retry_after_s
            log.warning(
                "reco-service %s failed after %.0f ms (%s: %s); "
                "showing the shop's popular products",
                path,
                (time.perf_counter() - started) * 1000,
                type(exc).__name__,
                exc,
            )
            return None
        version = body.get("model_version")
        return RankedIds(
            ids, str(body.get("source", "")), str(version) if version else None, reasons
        )


def get_reco() -> RecoClient:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = RecoClient(
        app.config["RECO_URL"],
        app.config["RECO_TIMEOUT_MS"] / 1000,
        app.config["RECO_API_TOKEN"],
        app.config["RECO_RETRY_AFTER_S"],
    )
