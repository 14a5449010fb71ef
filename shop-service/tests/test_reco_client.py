import logging
import socket
import time

import pytest

from vitrina_shop.reco_client import RankedIds, RecoClient

from .conftest import ANSWER_TIMEOUT_S


def _client(url: str, timeout_s: float = ANSWER_TIMEOUT_S, token: str | None = None) -> RecoClient:
    return RecoClient(url, timeout_s, token, retry_after_s=60.0)


def test_recommendations_are_read_with_token_k_and_exclude(fake_reco) -> None:
    fake_reco.answer("/recommendations/u1", ["A2", "B1"])
    reco = _client(fake_reco.url, token="t0ken")
    assert reco.recommendations("u1", 5, ["A1", "C1"]) == RankedIds(
        ["A2", "B1"], "personal", "v-test", ["", ""]
    )
    path, query, auth = fake_reco.requests[-1]
    assert (path, query, auth) == (
        "/recommendations/u1",
        {"k": ["5"], "exclude": ["A1,C1"]},
        "Bearer t0ken",
    )
    reco.close()


def test_no_token_sends_no_authorization_and_ids_are_path_quoted(fake_reco) -> None:
    fake_reco.answer("/similar/a/b", ["A1"], source="similar")
    reco = _client(fake_reco.url)
    assert reco.similar("a/b", 3) is None  # an id with a slash is quoted, not a different path
    assert fake_reco.requests[-1][0] == "/similar/a%2Fb"
    assert fake_reco.requests[-1][2] is None
    reco.close()


def test_ids_reco_service_would_refuse_are_not_sent(fake_reco) -> None:
    fake_reco.answer("/recommendations/u1", ["A2"])
    reco = _client(fake_reco.url)
    assert reco.recommendations("has space", 5) is None
    assert reco.recommendations("u1", 5, ["ok", "a,b", "x y"]) is not None
    assert fake_reco.requests[-1][1]["exclude"] == ["ok"]
    assert len(fake_reco.requests) == 1
    reco.close()


def test_slow_service_times_out_logs_and_rests(fake_reco, caplog: pytest.LogCaptureFixture) -> None:
    fake_reco.answer("/popular", ["A1"], source="popular")
    fake_reco.delay_s = 5.0
    reco = _client(fake_reco.url, timeout_s=0.2)
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="vitrina_shop.reco_client"):
        assert reco.popular(5) is None
        assert reco.popular(5) is None  # resting: no second wait
    assert time.perf_counter() - started < 2.5
    assert len(fake_reco.requests) == 1
    assert "ReadTimeout" in caplog.text
    reco.close()


def test_closed_port_is_a_fallback_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reco = _client(f"http://127.0.0.1:{port}")
    with caplog.at_level(logging.WARNING, logger="vitrina_shop.reco_client"):
        assert reco.recommendations("u1", 5) is None
    assert "ConnectError" in caplog.text
    reco.close()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"detail": "boom"}),
        (503, {"detail": "redis"}),
        (200, b"not json"),
        (200, {"items": 3}),
    ],
)
def test_error_answers_give_none(fake_reco, status: int, body: object) -> None:
    fake_reco.answers["/popular"] = (status, body)
    reco = _client(fake_reco.url)
    assert reco.popular(5) is None
    reco.close()


def test_visitor_id_and_exclude_bought_are_passed_on(fake_reco) -> None:
    fake_reco.answer("/recommendations/guest-1", ["A2"], source="session", reasons=["popular"])
    reco = _client(fake_reco.url)
    answer = reco.recommendations("guest-1", 3, visitor_id="guest-1", exclude_bought=True)
    assert answer == RankedIds(["A2"], "session", "v-test", ["popular"])
    assert fake_reco.requests[-1][1] == {
        "k": ["3"],
        "visitor_id": ["guest-1"],
        "exclude_bought": ["true"],
    }
    reco.close()


def test_a_404_about_one_item_does_not_make_the_client_rest(fake_reco) -> None:
    fake_reco.answer("/similar/A1", ["A2"], source="similar")
    reco = _client(fake_reco.url)
    assert reco.similar("nope", 5) is None
    assert reco.similar("A1", 5) == RankedIds(["A2"], "similar", "v-test", [""])
    reco.close()
