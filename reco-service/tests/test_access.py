"""The access log: one JSON line per request, with what answered it."""

import logging
import time
from collections.abc import Iterator

import orjson
import pytest

from vitrina_shared.log_format import CONTROL


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        assert not CONTROL.search(message), f"raw control character in {message!r}"
        self.lines.append(orjson.loads(message))


@pytest.fixture
def access_lines() -> Iterator[list[dict]]:
    """The access logger's lines, caught at the logger itself (the server logs from its thread)."""
    logger = logging.getLogger("vitrina_reco.access")
    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_each_request_is_logged_as_one_json_line(serve, publish, access_lines):
    publish("v1")
    api = serve(RECO_ACCESS_LOG=True)
    api.get("/recommendations/stranger", params={"k": 2, "exclude": "c"})
    deadline = time.monotonic() + 10  # the line is written just after the response is sent
    while not access_lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(access_lines) == 1
    line = access_lines[0]
    assert line.pop("ms") > 0
    assert line.pop("time").endswith("+00:00")
    assert line == {
        "method": "GET",
        "path": "/recommendations/stranger",
        "query": "k=2&exclude=c",
        "status": 200,
        "source": "popular",
        "client": "127.0.0.1",
    }


def test_access_log_can_be_turned_off(api, access_lines):
    api.get("/health")
    # The middleware counts a request and logs it in one step without yielding: once /metrics
    # shows the request counted, its line would already be there.
    deadline = time.monotonic() + 10
    while 'endpoint="/health"' not in api.get("/metrics").text:
        assert time.monotonic() < deadline, "the /health request was never counted"
        time.sleep(0.01)
    assert access_lines == []


def test_control_characters_never_reach_the_log_raw(serve, publish, access_lines):
    publish("v1")
    api = serve(RECO_ACCESS_LOG=True)
    api.get("/recommendations/a%00%E2%80%A8%C2%85%E2%80%AEb", params={"exclude": "x\x1b[31m"})
    deadline = time.monotonic() + 10
    while not access_lines and time.monotonic() < deadline:
        time.sleep(0.01)
    (line,) = access_lines
    assert line["status"] == 422
    assert line["path"] == "/recommendations/a\\x00\\u2028\\x85\\u202eb"
    assert line["query"] == "exclude=x%1B%5B31m"
    assert not CONTROL.search(orjson.dumps(line).decode())
