"""The shop's settings: read once from the environment by `create_app`; tests pass overrides."""

from pathlib import Path

from pydantic import Field, model_validator

from vitrina_shared.settings import VitrinaSettings, require_real_secret

DEV_SECRET_KEY = "dev"
# A production key must resist an offline guess from a signed cookie: 32 characters or more, and
# not one or two characters repeated (`secrets.token_urlsafe(32)` gives 43 of 64 kinds).
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_KINDS = 12


class ShopSettings(VitrinaSettings):
    """Everything shop-service reads from the environment."""

    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; unset = a SQLite file `shop.sqlite3` under DATA_DIR.",
    )
    secret_key: str = Field(
        DEV_SECRET_KEY,
        validation_alias="SHOP_SECRET_KEY",
        description="Signs the session cookie; the development default is refused in production.",
    )
    reco_url: str = Field("http://127.0.0.1:8000", validation_alias="RECO_URL")
    reco_timeout_ms: int = Field(
        300, gt=0, le=10_000, validation_alias="RECO_TIMEOUT_MS", description="Per call to reco."
    )
    reco_api_token: str | None = Field(None, validation_alias="RECO_API_TOKEN")
    demo_switch: bool | None = Field(
        None,
        validation_alias="SHOP_DEMO_SWITCH",
        description="Browse as any customer of the data; unset = on except in production.",
    )
    currency: str = Field(
        "RUB",
        validation_alias="SHOP_CURRENCY",
        description="Currency of the data's prices: RUB, GBP…",
    )
    secure_cookies: bool | None = Field(
        None,
        validation_alias="SHOP_SECURE_COOKIES",
        description="Send cookies over HTTPS only; unset = on in production, off otherwise.",
    )
    items_path: Path | None = Field(
        None,
        validation_alias="ITEMS",
        description="items.csv that init imports; unset = DATA_DIR/items.csv when it exists.",
    )
    events_path: Path | None = Field(
        None,
        validation_alias="EVENTS",
        description="Events whose products and customers init imports; "
        "unset = DATA_DIR/events.csv.gz when it exists.",
    )
    page_size: int = Field(
        24,
        ge=1,
        le=200,
        validation_alias="SHOP_PAGE_SIZE",
        description="Products per listing page.",
    )

    attribution_window_h: float = Field(
        24.0,
        gt=0,
        le=24 * 90,
        validation_alias="SHOP_ATTRIBUTION_WINDOW_H",
        description="Hours after a click on a recommendation in which an add-to-cart or a "
        "purchase of that product is attributed to it.",
    )
    exposure_log: bool = Field(
        True,
        validation_alias="SHOP_EXPOSURE_LOG",
        description="Log every recommendation block shown and every click on one (what the "
        "experiments' reports count); off = links carry no reference and nothing is written.",
    )

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> "ShopSettings":
        require_real_secret(self, "SHOP_SECRET_KEY", self.secret_key)
        key = self.secret_key
        if self.is_production and (
            len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_KINDS
        ):
            raise ValueError(
                f"SHOP_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters when "
                "VITRINA_ENV=production (python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))' makes one)"
            )
        return self

    @property
    def secure_cookies_on(self) -> bool:
        return self.is_production if self.secure_cookies is None else self.secure_cookies

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'shop.sqlite3').resolve()}"

    @property
    def items_to_import(self) -> Path | None:
        beside = self.data_dir / "items.csv"
        return self.items_path or (beside if beside.is_file() else None)

    @property
    def events_to_import(self) -> list[Path]:
        beside = self.data_dir / "events.csv.gz"
        return [self.events_path] if self.events_path else ([beside] if beside.is_file() else [])

    @property
    def demo_switch_on(self) -> bool:
        return not self.is_production if self.demo_switch is None else self.demo_switch
