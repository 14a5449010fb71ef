"""The trainer's settings: read once from the environment; the CLI's flags override them."""

import os
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from vitrina_shared.redis_layout import MAX_STORED_K
from vitrina_shared.settings import VitrinaSettings


class TrainerSettings(VitrinaSettings):
    """Everything `vitrina-trainer` needs besides its input paths."""

    top_k: int = Field(
        100,
        ge=50,
        le=MAX_STORED_K,
        validation_alias="TRAINER_TOP_K",
        description="Products stored per user.",
    )
    similar_k: int = Field(
        20,
        ge=1,
        le=MAX_STORED_K,
        validation_alias="TRAINER_SIMILAR_K",
        description="Similar products per product.",
    )
    fallback_k: int = Field(
        100,
        ge=10,
        le=MAX_STORED_K,
        validation_alias="TRAINER_FALLBACK_K",
        description="Length of each fallback.",
    )
    versions_kept: int = Field(
        3, ge=1, validation_alias="TRAINER_VERSIONS_KEPT", description="Versions kept for rollback."
    )
    shop_db_url: str | None = Field(
        None,
        validation_alias="SHOP_DB_URL",
        description="SQLAlchemy URL of the shop's database; its event log joins the training data.",
    )
    events_path: Path | None = Field(
        None,
        validation_alias="EVENTS",
        description="Events `run` and `schedule` train on when no --events is given.",
    )
    items_path: Path | None = Field(
        None, validation_alias="ITEMS", description="items.csv used when no --items is given."
    )
    train_at: time = Field(
        time(3, 0), validation_alias="TRAIN_AT", description="`schedule`: daily run time, UTC."
    )
    retry_s: float = Field(
        60.0,
        gt=0,
        validation_alias="TRAINER_RETRY_S",
        description="`schedule`: wait before retrying a failed run, doubled per failure (≤ 1 h).",
    )
    threads: int = Field(
        default_factory=lambda: len(os.sched_getaffinity(0)),
        ge=1,
        validation_alias="TRAINER_THREADS",
        description="Threads the model may use in `run` (default: the usable cores).",
    )
    redis_timeout_s: float = Field(
        30.0, gt=0, validation_alias="TRAINER_REDIS_TIMEOUT_S", description="Per-command timeout."
    )

    engine: Literal["default", "spark"] = Field(
        "default",
        validation_alias="TRAINER_ENGINE",
        description="`run`'s engine: `default` (one process) or `spark` (the [spark] extra).",
    )
    spark_master: str = Field(
        "local[*]",
        validation_alias="SPARK_MASTER",
        description="The Spark engine's master: local[N], spark://host:7077, k8s://…",
    )
    spark_partitions: int = Field(
        0,
        ge=0,
        validation_alias="TRAINER_SPARK_PARTITIONS",
        description="Partitions the Spark engine scores; 0 = one per 2 M events, two per core.",
    )
    spark_fit_customers: int = Field(
        200_000,
        ge=100,
        validation_alias="TRAINER_SPARK_FIT_CUSTOMERS",
        description="Customers the Spark engine's driver fits the model on (a hash sample).",
    )

    @property
    def reports_dir(self) -> Path:
        """Where `eda` and `evaluate` write their reports by default."""
        return self.data_dir / "reports"

    @property
    def schedule_state_path(self) -> Path:
        """Where `schedule` records whether it is training, waiting or retrying (for `health`)."""
        return self.data_dir / "trainer-schedule.json"

    @property
    def evaluation_json(self) -> Path:
        """The last `evaluate` report; `run` copies its metrics into the published metadata."""
        return self.reports_dir / "evaluation.json"
