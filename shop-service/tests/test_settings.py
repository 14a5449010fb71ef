from pathlib import Path

import pytest
from pydantic import ValidationError

from vitrina_shop.settings import ShopSettings


def test_development_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in (
        "DATABASE_URL",
        "SHOP_SECRET_KEY",
        "VITRINA_ENV",
        "RECO_TIMEOUT_MS",
        "SHOP_DEMO_SWITCH",
        "SHOP_EXPOSURE_LOG",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = ShopSettings()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'shop.sqlite3'}"
    assert settings.reco_timeout_ms == 300
    assert settings.demo_switch_on is True
    assert settings.currency == "RUB"
    assert settings.exposure_log is True


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.delenv("SHOP_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SHOP_SECRET_KEY"):
        ShopSettings()


def test_production_with_a_real_secret_turns_the_demo_switch_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.setenv("SHOP_SECRET_KEY", "kq3V_x8Lr2pZ0mT7wYc4NdHs9GfJbE1u")
    monkeypatch.delenv("SHOP_DEMO_SWITCH", raising=False)
    assert ShopSettings().demo_switch_on is False
    monkeypatch.setenv("SHOP_DEMO_SWITCH", "true")
    assert ShopSettings().demo_switch_on is True


@pytest.mark.parametrize("value", ["0", "10001", "soon"])
def test_bad_reco_timeout_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RECO_TIMEOUT_MS", value)
    with pytest.raises(ValidationError, match="RECO_TIMEOUT_MS"):
        ShopSettings()


@pytest.mark.parametrize("key", ["x", "Zx9#Qm2!", "ab" * 20, "0123456789" * 4])
def test_production_refuses_a_weak_secret(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.setenv("SHOP_SECRET_KEY", key)
    with pytest.raises(ValidationError, match="at least 32 random characters"):
        ShopSettings()


def test_secure_cookies_default_on_in_production_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOP_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("VITRINA_ENV", raising=False)
    assert ShopSettings().secure_cookies_on is False
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.setenv("SHOP_SECRET_KEY", "kq3V_x8Lr2pZ0mT7wYc4NdHs9GfJbE1u")
    assert ShopSettings().secure_cookies_on is True
    monkeypatch.setenv("SHOP_SECURE_COOKIES", "false")  # TLS ends before the shop, by choice
    assert ShopSettings().secure_cookies_on is False


def test_the_exposure_log_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_EXPOSURE_LOG", "false")
    assert ShopSettings().exposure_log is False
