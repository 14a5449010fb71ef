import pytest

from vitrina_reco import cli


@pytest.fixture(autouse=True)
def keep_logging(monkeypatch):
    """`main` configures logging for the process; not for the test session's."""
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kwargs: None)
    access = cli.logging.getLogger(cli.ACCESS_LOGGER)
    handlers, propagate = list(access.handlers), access.propagate
    yield
    access.handlers[:] = handlers
    access.propagate = propagate


def test_runs_uvicorn_on_the_given_address(monkeypatch):
    calls = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    cli.main(["--host", "0.0.0.0", "--port", "9123"])
    ((app, kwargs),) = calls
    assert app.title == "Vitrina reco-service"
    assert (kwargs["host"], kwargs["port"], kwargs["loop"], kwargs["http"]) == (
        "0.0.0.0",
        9123,
        "uvloop",
        "httptools",
    )


def test_defaults_to_loopback_port_8000(monkeypatch):
    calls = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    cli.main([])
    assert (calls[0]["host"], calls[0]["port"]) == ("127.0.0.1", 8000)


def test_a_bad_port_is_refused(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--port", "eighty"])
    assert "invalid int value" in capsys.readouterr().err
