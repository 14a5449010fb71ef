import pytest
from pydantic import ValidationError

from vitrina_reco.settings import RecoSettings


def test_defaults_need_no_environment(monkeypatch):
    for name in ("RECO_API_TOKEN", "VITRINA_ENV", "RECO_REDIS_TIMEOUT_MS"):
        monkeypatch.delenv(name, raising=False)
    settings = RecoSettings()
    assert (settings.api_token, settings.redis_timeout, settings.version_ttl_seconds) == (
        None,
        0.25,
        2.0,
    )


def test_reads_the_environment(monkeypatch):
    monkeypatch.setenv("RECO_API_TOKEN", "tok-123456")
    monkeypatch.setenv("RECO_REDIS_TIMEOUT_MS", "40")
    settings = RecoSettings()
    assert settings.api_token.get_secret_value() == "tok-123456"
    assert settings.redis_timeout == 0.04


def test_an_empty_token_means_no_auth():
    assert RecoSettings(RECO_API_TOKEN="  ").api_token is None


def test_production_refuses_a_placeholder_token():
    with pytest.raises(ValidationError, match="RECO_API_TOKEN must be set to a real secret"):
        RecoSettings(VITRINA_ENV="production", RECO_API_TOKEN="change-me")


def test_the_token_is_not_printed():
    assert "tok-123456" not in repr(RecoSettings(RECO_API_TOKEN="tok-123456"))
