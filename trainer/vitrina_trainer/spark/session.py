"""The Spark session of a run: a clear error, not a traceback, without pyspark or Java."""

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vitrina_trainer.errors import TrainerError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkUnavailableError(TrainerError):
    """pyspark is not installed, or there is no Java runtime to start Spark with."""


def java_missing_reason() -> str | None:
    """Why Spark cannot start here, or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "the Spark engine needs the extra: pip install 'vitrina-trainer[spark]'"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "the Spark engine needs a Java runtime (17 or later): no `java` on PATH or JAVA_HOME"
    return None


def spark_session(master: str, app_name: str = "vitrina-trainer") -> "SparkSession":
    """A session on `master` (`local[N]`, `spark://…`, `k8s://…`).

    Spark-defaults.conf and `spark-submit` settings apply as usual. Python workers run this
    interpreter unless PYSPARK_PYTHON says otherwise (images of the driver and the executors
    must match).
    """
    if reason := java_missing_reason():
        raise SparkUnavailableError(reason)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
    )
    # Read by pyspark when the context starts; executors of a cluster get the same path.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.getOrCreate()
    if master.startswith("local"):  # 200 shuffle partitions cost more than they bring here
        spark.conf.set("spark.sql.shuffle.partitions", 2 * spark.sparkContext.defaultParallelism)
    return spark
