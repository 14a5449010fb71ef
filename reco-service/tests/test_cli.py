import os
import subprocess
import sys
from pathlib import Path

import pytest

from vitrina_reco import cli

VITRINA_RECO = str(Path(sys.executable).parent / "vitrina-reco")
STRONG_TOKEN = "k" * 32


@pytest.fixture
def uvicorn_calls(monkeypatch) -> list[tuple]:
    """What would have been served: (app, uvicorn's arguments with `workers`) per call."""
    calls = []
    monkeypatch.setattr(
        cli.uvicorn, "run", lambda app, **kwargs: calls.append((app, {**kwargs, "workers": 1}))
    )
    monkeypatch.setattr(
        cli,
        "serve",
        lambda workers, host, port, app, **kwargs: calls.append(
            (app, {**kwargs, "workers": workers, "host": host, "port": port})
        ),
    )
    for name in ("RECO_WORKERS", "VITRINA_ENV", "RECO_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_runs_the_app_factory_on_the_given_address(uvicorn_calls):
    cli.main(["--host", "0.0.0.0", "--port", "9123", "--workers", "3"])
    ((app, kwargs),) = uvicorn_calls
    assert (app, kwargs["factory"]) == ("vitrina_reco.app:create_app", True)
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("0.0.0.0", 9123, 3)
    assert (kwargs["loop"], kwargs["http"]) == ("uvloop", cli.HTTP_PROTOCOL)


def test_defaults_to_loopback_port_8000_and_one_worker_per_usable_core(uvicorn_calls):
    cli.main([])
    kwargs = uvicorn_calls[0][1]
    assert (kwargs["host"], kwargs["port"]) == ("127.0.0.1", 8000)
    assert kwargs["workers"] == len(os.sched_getaffinity(0))


def test_workers_come_from_the_environment_and_the_flag_wins(uvicorn_calls, monkeypatch):
    monkeypatch.setenv("RECO_WORKERS", "5")
    cli.main([])
    cli.main(["--workers", "2"])
    assert [kwargs["workers"] for _, kwargs in uvicorn_calls] == [5, 2]


def test_the_factory_builds_the_app(monkeypatch):
    from vitrina_reco.app import create_app

    monkeypatch.delenv("VITRINA_ENV", raising=False)
    assert create_app().title == "Vitrina reco-service"


def test_a_bad_port_or_worker_count_is_refused(capsys, uvicorn_calls):
    with pytest.raises(SystemExit):
        cli.main(["--port", "eighty"])
    assert "invalid int value" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--workers", "0"])
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert uvicorn_calls == []


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (None, "RECO_API_TOKEN must be set to a real secret when VITRINA_ENV=production"),
        ("", "RECO_API_TOKEN must be set to a real secret when VITRINA_ENV=production"),
        ("change-me", "RECO_API_TOKEN must be set to a real secret when VITRINA_ENV=production"),
        ("tok-123456", "RECO_API_TOKEN must be at least 32 characters"),
    ],
)
def test_production_without_a_strong_token_stops_with_one_line(token, says):
    env = {k: v for k, v in os.environ.items() if k != "RECO_API_TOKEN"}
    env |= {"VITRINA_ENV": "production"} | ({"RECO_API_TOKEN": token} if token is not None else {})
    done = subprocess.run(
        [VITRINA_RECO, "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("vitrina-reco: error: ")
    assert says in lines[0]
    assert "Traceback" not in done.stderr
