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
    ):
        monkeypatch.delenv(name, raising=False)
    settings = ShopSettings()
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'shop.sqlite3'}"
    assert settings.reco_timeout_ms == 300
    assert settings.demo_switch_on is True
    assert settings.currency == "RUB"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.delenv("SHOP_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SHOP_SECRET_KEY"):
        ShopSettings()


def test_production_with_a_real_secret_turns_the_demo_switch_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.setenv("SHOP_SECRET_KEY", "a-long-random-value-4f1c")
    monkeypatch.delenv("SHOP_DEMO_SWITCH", raising=False)
    assert ShopSettings().demo_switch_on is False
    monkeypatch.setenv("SHOP_DEMO_SWITCH", "true")
    assert ShopSettings().demo_switch_on is True


@pytest.mark.parametrize("value", ["0", "10001", "soon"])
def test_bad_reco_timeout_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RECO_TIMEOUT_MS", value)
    with pytest.raises(ValidationError, match="RECO_TIMEOUT_MS"):
        ShopSettings()
