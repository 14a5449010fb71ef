import pytest

from vitrina_shared.settings import (
    Environment,
    VitrinaSettings,
    hide_password,
    require_real_secret,
)


def test_reads_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://example:6380/2")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = VitrinaSettings()
    assert settings.redis_url == "redis://example:6380/2"
    assert settings.data_dir == tmp_path
    assert settings.environment is Environment.DEVELOPMENT


@pytest.mark.parametrize("value", [None, "", "change-me", "dev"])
def test_placeholder_secrets_refused_in_production(monkeypatch, value):
    monkeypatch.setenv("VITRINA_ENV", "production")
    with pytest.raises(ValueError, match="SHOP_SECRET_KEY must be set"):
        require_real_secret(VitrinaSettings(), "SHOP_SECRET_KEY", value)


def test_placeholder_secret_allowed_in_development():
    require_real_secret(VitrinaSettings(), "SHOP_SECRET_KEY", "dev")


def test_real_secret_accepted_in_production(monkeypatch):
    monkeypatch.setenv("VITRINA_ENV", "production")
    require_real_secret(VitrinaSettings(), "SHOP_SECRET_KEY", "s3cr3t-1b2e9f")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://shop:s3cret@db:5432/shop",
            "postgresql+psycopg://shop:***@db:5432/shop",
        ),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("sqlite:///data/shop.db", "sqlite:///data/shop.db"),
    ],
)
def test_hide_password(url, shown):
    assert hide_password(url) == shown
