import pytest
from flask import Flask

from vitrina_shop import cache
from vitrina_shop.cache import remembered


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    return now


def _counting():
    built: list[int] = []

    def build() -> int:
        built.append(len(built) + 1)
        return built[-1]

    return built, build


def test_a_value_is_kept_for_its_time_to_live_then_built_again(app: Flask, clock) -> None:
    built, build = _counting()
    with app.app_context():
        assert remembered("c", "k", build, 30.0) == 1
        clock[0] += 29.999
        assert remembered("c", "k", build, 30.0) == 1
        clock[0] += 0.001
        assert remembered("c", "k", build, 30.0) == 2
    assert built == [1, 2]


def test_without_a_time_to_live_a_value_is_kept_and_keys_and_names_are_apart(
    app: Flask, clock
) -> None:
    _, build = _counting()
    with app.app_context():
        assert remembered("c", "k", build) == 1
        clock[0] += 10**6
        assert remembered("c", "k", build) == 1
        assert remembered("c", "other", build) == 2
        assert remembered("d", "k", build) == 3
    assert app.extensions["c"].keys() == {"k", "other"}


def test_a_full_cache_is_emptied_before_it_grows(
    app: Flask, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    _, build = _counting()
    with app.app_context():
        remembered("c", "a", build)
        remembered("c", "b", build)
        assert len(app.extensions["c"]) == 2
        remembered("c", "c", build)
        assert list(app.extensions["c"]) == ["c"]
