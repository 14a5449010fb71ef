"""Events read and cleaned on Spark by the shared reader's own rules, batch by batch.

Each partition runs `EventCleaner` (the rules of `vitrina_shared.events`) on Arrow batches and
ends with one row of its counts; the driver adds those up. Duplicates are found over all events
by Spark. `row` numbers the clean events in the order they were read, which the driver uses to
code ids in order of first appearance, as the default engine does.
"""

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf

from vitrina_shared.events import DUPLICATE, EventCleaner, EventReadError
from vitrina_shared.model_meta import DataSummary
from vitrina_shared.schema import Columns, Raw
from vitrina_shared.settings import hide_password

ROW = "row"
COUNTS = "counts"
EVENT_COLUMNS = (
    Columns.USER,
    Columns.ITEM,
    Columns.DATETIME,
    Columns.EVENT,
    Columns.PLATFORM,
    Columns.PRICE,
    Columns.QTY,
)
CLEAN_SCHEMA = (
    f"{Columns.USER} string, {Columns.ITEM} string, {Columns.DATETIME} timestamp, "
    f"{Columns.EVENT} string, {Columns.PLATFORM} string, {Columns.PRICE} long, "
    f"{Columns.QTY} long, {COUNTS} string"
)


@dataclass
class SparkEvents:
    """Clean, de-duplicated events on Spark (with `row`), and what reading them found."""

    frame: DataFrame
    summary: DataSummary


def _format(path: str) -> str:
    """Csv or parquet, from the name.

    A local folder by what it holds; else Parquet (a partitioned data set).
    """
    name = path.rstrip("/").lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    local = Path(path)
    if local.is_dir() and any(p.name.endswith((".csv", ".csv.gz")) for p in local.rglob("*")):
        return "csv"
    return "parquet"


def _raw(spark: SparkSession, path: str) -> DataFrame:
    if _format(path) == "csv":
        frame = spark.read.option("header", True).option("inferSchema", False).csv(path)
    else:
        frame = spark.read.parquet(path)
    missing = [name for name in Raw.REQUIRED if name not in frame.columns]
    if missing:
        raise EventReadError(f"{path}: missing required column {', '.join(map(repr, missing))}")
    present = [name for name in Raw.ALL if name in frame.columns]
    return frame.select([sf.col(f"`{name}`").cast("string").alias(_safe(name)) for name in present])


def _safe(name: str) -> str:
    """The export's column name without dots, which Spark would read as struct fields."""
    return name.replace(".", "__")


def _clean(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow: the clean rows of a partition, then one row holding its counts."""
    cleaner = EventCleaner()
    export_names = {_safe(name): name for name in Raw.ALL}
    for batch in batches:
        batch = batch.rename_columns([export_names[name] for name in batch.schema.names])
        table = cleaner.clean(batch)
        when = table[Columns.DATETIME].cast(pa.timestamp("us", "UTC"))
        table = table.set_column(table.column_names.index(Columns.DATETIME), Columns.DATETIME, when)
        table = table.append_column(COUNTS, pa.nulls(table.num_rows, pa.string()))
        yield from table.to_batches()
    counts = {"rows_read": cleaner.rows_read, "skipped": cleaner.skipped}
    row = {name: pa.nulls(1, pa.string()) for name in EVENT_COLUMNS}
    row[Columns.DATETIME] = pa.nulls(1, pa.timestamp("us", "UTC"))
    row[Columns.PRICE] = row[Columns.QTY] = pa.nulls(1, pa.int64())
    row[COUNTS] = pa.array([orjson.dumps(counts).decode()])
    yield pa.RecordBatch.from_pydict(row)


def read_events(spark: SparkSession, paths: Sequence[str]) -> SparkEvents:
    """Read every path (files, folders, partitioned data sets, any URL Spark reads) and clean it.

    Raises `EventReadError` when nothing valid is left.
    """
    if not paths:
        raise EventReadError("no event files given")
    raw = _raw(spark, paths[0])
    for path in paths[1:]:
        raw = raw.unionByName(_raw(spark, path), allowMissingColumns=True)
    cleaned = raw.mapInArrow(_clean, CLEAN_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
    rows_read, skipped = 0, Counter[str]()
    for (blob,) in cleaned.where(sf.col(COUNTS).isNotNull()).select(COUNTS).collect():
        counts = orjson.loads(blob)
        rows_read += counts["rows_read"]
        skipped.update(counts["skipped"])
    valid = cleaned.where(sf.col(COUNTS).isNull()).drop(COUNTS)
    numbered = valid.withColumn(ROW, sf.monotonically_increasing_id())
    events = numbered.groupBy(*EVENT_COLUMNS).agg(sf.min(ROW).alias(ROW))
    events = events.persist(StorageLevel.MEMORY_AND_DISK)
    stats = events.agg(
        sf.count("*").alias("events"),
        sf.unix_micros(sf.min(Columns.DATETIME)).alias("first"),
        sf.unix_micros(sf.max(Columns.DATETIME)).alias("last"),
        sf.countDistinct(Columns.USER).alias("users"),
        sf.countDistinct(Columns.ITEM).alias("items"),
    ).first()
    n_valid = valid.count()
    cleaned.unpersist()
    if n_valid > stats["events"]:
        skipped[DUPLICATE] += n_valid - stats["events"]
    names = ", ".join(hide_password(p) for p in paths)
    if rows_read == 0:
        raise EventReadError(f"{names}: no events (header only)")
    if stats["events"] == 0:
        reasons = "; ".join(f"{reason}: {count}" for reason, count in skipped.items())
        raise EventReadError(f"{names}: none of {rows_read} rows is a valid event ({reasons})")
    summary = DataSummary(
        first=pd.Timestamp(stats["first"], unit="us", tz="UTC").isoformat(),
        last=pd.Timestamp(stats["last"], unit="us", tz="UTC").isoformat(),
        events=stats["events"],
        users=stats["users"],
        items=stats["items"],
        rows_read=rows_read,
        rows_skipped=sum(skipped.values()),
        sources=[hide_password(p) for p in paths],
    )
    return SparkEvents(events, summary)
