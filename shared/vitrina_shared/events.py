"""The event reader: the one door every byte of event data comes through.

It reads the marketplace export's schema from .csv, .csv.gz, .parquet or folders of them, in
chunks with pyarrow, and copes with what real exports contain: bracketed lists over several
products, `ec.`-prefixed event types, 128-bit ids (kept as strings), missing values, bad times,
non-positive or absurd prices or quantities, ids breaking the id rule (`vitrina_shared.ids`),
rows with the wrong number of fields, duplicates and extra columns. A row that cannot be read is
skipped and counted by reason; only a file that is not CSV/gzip/Parquet at all, a missing required
column or an input without a single valid event is an error (`EventReadError`, naming the file).
"""

import csv
import gzip
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vitrina_shared.ids import MAX_ID_LENGTH, is_valid_id
from vitrina_shared.schema import EVENT_TYPES, EXPORT_PREFIX, MAX_PRICE100, MAX_QTY, Columns, Raw

CSV_BLOCK_BYTES = 64 << 20
HEADER_BYTES = 1 << 20
EVENT_SUFFIXES = (".csv", ".csv.gz", ".parquet")
CATALOG_NAMES = ("items.csv", "items.csv.gz", "items.parquet")
LIST_COLUMNS = (Raw.ITEM_ID, Raw.PRICE100, Raw.QTY)
NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
CATEGORICAL = (Columns.USER, Columns.ITEM, Columns.EVENT, Columns.PLATFORM)

# Reasons a row is skipped; each skipped row is counted once, under the first reason it meets.
MALFORMED_ROW = "malformed CSV row (wrong number of fields)"
LIST_LENGTHS = "lists of unequal length"
MISSING_USER = "missing user_id"
MISSING_ITEM = "missing item id (ecom.nm)"
BAD_ID = f"id breaking the id rule (1 to {MAX_ID_LENGTH} printable characters, no space or comma)"
UNKNOWN_EVENT = "unknown event_type"
BAD_TIME = "bad utc_event_time"
BAD_PRICE = f"missing, non-numeric, non-positive or over {MAX_PRICE100:,} price"
BAD_QTY = f"missing, non-numeric, non-positive or over {MAX_QTY:,} quantity"
DUPLICATE = "duplicate row"


class EventReadError(ValueError):
    """The input cannot be read at all; the message names the file and what is wrong."""


@dataclass
class EventLog:
    """Clean events (`Columns` schema, sorted by time) and what reading them found."""

    events: pd.DataFrame
    rows_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    missing_share: dict[str, float] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())


def find_event_files(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """Expand folders into their event files; a path that does not exist is an error."""
    if isinstance(paths, str | Path):
        paths = [paths]
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.name.endswith(EVENT_SUFFIXES) and p.name not in CATALOG_NAMES
            )
            if not inside:
                raise EventReadError(f"{path}: folder holds no .csv, .csv.gz or .parquet files")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise EventReadError(f"{path}: no such file or folder")
    if not found:
        raise EventReadError("no event files given")
    return found


def _batches(path: Path, cleaner: "EventCleaner") -> Iterator[pa.RecordBatch]:
    """The file's rows as batches with every column read as text, so nothing is mis-parsed.

    A file that is not what its name says (garbage, a truncated gzip stream, a broken Parquet
    footer) is an `EventReadError` naming it; a CSV row with the wrong number of fields is
    counted by `cleaner` and skipped.
    """
    if path.name.endswith(".parquet"):
        yield from _parquet_batches(path)
        return

    _check_columns(path, _csv_header(path))

    def skip_malformed_row(row: pacsv.InvalidRow) -> str:
        cleaner.rows_read += 1
        cleaner.skipped[MALFORMED_ROW] += 1
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(invalid_row_handler=skip_malformed_row),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in Raw.ALL},
                strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise EventReadError(f"{path}: not a readable CSV file ({exc})") from exc
    except OSError as exc:  # a .csv.gz cut short
        raise EventReadError(f"{path}: not a readable {_kind(path)} file ({exc})") from exc
    try:
        for batch in reader:
            # Extra columns may have any type; only ours are needed from here on.
            yield batch.select([name for name in Raw.ALL if name in batch.schema.names])
    except pa.ArrowInvalid as exc:
        raise EventReadError(f"{path}: malformed CSV ({exc})") from exc
    except OSError as exc:
        raise EventReadError(f"{path}: not a readable {_kind(path)} file ({exc})") from exc


def _csv_header(path: Path) -> list[str]:
    """The column names, read before Arrow sees the file.

    A file that is not (gzip-compressed) UTF-8 text fails here, in one clear line, before Arrow
    parses rows of garbage.
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            line = file.readline(HEADER_BYTES)
        text = line.decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise EventReadError(f"{path}: not a readable {_kind(path)} file ({exc})") from exc
    if not text.strip():
        raise EventReadError(f"{path}: the file is empty")
    return next(csv.reader([text]))


def _kind(path: Path) -> str:
    return "gzip-compressed CSV" if path.name.endswith(".gz") else "CSV"


def _parquet_batches(path: Path) -> Iterator[pa.RecordBatch]:
    try:
        parquet = pq.ParquetFile(path)
        _check_columns(path, parquet.schema_arrow.names)
        for batch in parquet.iter_batches(batch_size=1_000_000):
            yield pa.RecordBatch.from_arrays(
                [pc.cast(col, pa.string()) for col in batch.columns], names=batch.schema.names
            )
    except (pa.ArrowException, OSError) as exc:
        raise EventReadError(f"{path}: not a readable Parquet file ({exc})") from exc


def _check_columns(path: Path | str, names: Iterable[str]) -> None:
    missing = [column for column in Raw.REQUIRED if column not in set(names)]
    if missing:
        raise EventReadError(f"{path}: missing required column {', '.join(map(repr, missing))}")


def _blank(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), True)


def breaks_id_rule(ids: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """True where an id breaks `vitrina_shared.ids.is_valid_id`, computed column-wise.

    Arrow's Unicode tables may be newer than Python's, so the few distinct non-ASCII ids that pass
    the column-wise test are decided by `is_valid_id` itself: reader and services agree exactly.
    """
    length = pc.utf8_length(ids)
    ok = pc.and_(
        pc.and_(pc.greater(length, 0), pc.less_equal(length, MAX_ID_LENGTH)),
        pc.and_(
            pc.utf8_is_printable(ids),
            pc.invert(pc.match_substring_regex(ids, "[ ,]")),
        ),
    )
    ok = pc.fill_null(ok, False)
    foreign = pc.and_(ok, pc.invert(pc.string_is_ascii(ids)))
    if pc.any(foreign).as_py():
        refused = [v for v in pc.unique(pc.filter(ids, foreign)).to_pylist() if not is_valid_id(v)]
        if refused:
            ok = pc.and_(ok, pc.invert(pc.is_in(ids, value_set=pa.array(refused, pa.string()))))
    return pc.invert(ok)


class EventCleaner:
    """Turns raw text batches into clean Arrow tables, counting what it skips.

    Used batch by batch, it is the same rules wherever the batches come from: the files read
    here, or Arrow batches on Spark's executors (the trainer's Spark engine).
    """

    def __init__(self) -> None:
        self.rows_read = 0
        self.missing = Counter[str]()
        self.skipped = Counter[str]()

    def _drop(self, table: pa.Table, bad: pa.Array, reason: str) -> pa.Table:
        count = pc.sum(bad).as_py() or 0
        if count:
            self.skipped[reason] += count
            table = table.filter(pc.invert(bad))
        return table

    def clean(self, batch: pa.RecordBatch) -> pa.Table:
        table = pa.Table.from_batches([batch])
        self.rows_read += table.num_rows
        for name in Raw.ALL:
            if name in table.column_names:
                self.missing[name] += pc.sum(_blank(table[name])).as_py() or 0
            else:
                self.missing[name] += table.num_rows
        if Raw.PLATFORM not in table.column_names:
            table = table.append_column(Raw.PLATFORM, pa.nulls(table.num_rows, pa.string()))
        table = self._explode_lists(table)

        user = pc.utf8_trim_whitespace(table[Raw.USER_ID])
        item = pc.utf8_trim_whitespace(table[Raw.ITEM_ID])
        table = table.set_column(table.column_names.index(Raw.USER_ID), Raw.USER_ID, user)
        table = table.set_column(table.column_names.index(Raw.ITEM_ID), Raw.ITEM_ID, item)
        table = self._drop(table, _blank(table[Raw.USER_ID]), MISSING_USER)
        table = self._drop(table, _blank(table[Raw.ITEM_ID]), MISSING_ITEM)
        bad_id = pc.or_(breaks_id_rule(table[Raw.USER_ID]), breaks_id_rule(table[Raw.ITEM_ID]))
        table = self._drop(table, bad_id, BAD_ID)

        event = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(table[Raw.EVENT_TYPE], "")))
        event = pc.replace_substring_regex(event, f"^{EXPORT_PREFIX.replace('.', r'[.]')}", "")
        known = pc.is_in(event, value_set=pa.array(EVENT_TYPES))
        table = table.set_column(table.column_names.index(Raw.EVENT_TYPE), Raw.EVENT_TYPE, event)
        table = self._drop(table, pc.invert(known), UNKNOWN_EVENT)

        times = pd.to_datetime(
            table[Raw.EVENT_TIME].to_pandas(), utc=True, format="ISO8601", errors="coerce"
        )
        table = table.append_column(Columns.DATETIME, pa.array(times, pa.timestamp("ns", "UTC")))
        table = self._drop(table, pc.is_null(table[Columns.DATETIME]), BAD_TIME)

        for raw, name, reason, largest in (
            (Raw.PRICE100, Columns.PRICE, BAD_PRICE, MAX_PRICE100),
            (Raw.QTY, Columns.QTY, BAD_QTY, MAX_QTY),
        ):
            text = pc.utf8_trim_whitespace(pc.fill_null(table[raw], ""))
            numeric = pc.match_substring_regex(text, NUMBER)
            value = pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())
            bad = pc.fill_null(pc.or_(pc.less_equal(value, 0), pc.greater(value, largest)), True)
            # Out-of-range values are dropped before the cast to int64, which they would overflow.
            table = self._drop(table.append_column(name, value), bad, reason)
            whole = pc.cast(pc.round(table[name]), pa.int64())
            table = table.set_column(table.column_names.index(name), name, whole)

        platform = pc.utf8_trim_whitespace(pc.fill_null(table[Raw.PLATFORM], ""))
        platform = pc.if_else(pc.equal(platform, ""), "unknown", platform)
        return pa.table(
            {
                Columns.USER: table[Raw.USER_ID],
                Columns.ITEM: table[Raw.ITEM_ID],
                Columns.DATETIME: table[Columns.DATETIME],
                Columns.EVENT: table[Raw.EVENT_TYPE],
                Columns.PLATFORM: platform,
                Columns.PRICE: table[Columns.PRICE],
                Columns.QTY: table[Columns.QTY],
            }
        )

    def _explode_lists(self, table: pa.Table) -> pa.Table:
        """One row per product of an event; `[1, 2]` lists of unequal length make the row bad."""
        has_list = pc.any(pc.starts_with(pc.fill_null(table[Raw.ITEM_ID], ""), "[")).as_py()
        if not has_list:
            return table
        lists = {
            name: pc.split_pattern(
                pc.replace_substring_regex(pc.fill_null(table[name], ""), r"[\[\]\s'\"]", ""), ","
            )
            for name in LIST_COLUMNS
        }
        lengths = [pc.list_value_length(lists[name]) for name in LIST_COLUMNS]
        unequal = pc.or_(pc.not_equal(lengths[0], lengths[1]), pc.not_equal(lengths[0], lengths[2]))
        keep = pc.invert(unequal)
        if dropped := pc.sum(unequal).as_py():
            self.skipped[LIST_LENGTHS] += dropped
        table = table.filter(keep)
        lists = {name: pc.filter(values, keep) for name, values in lists.items()}
        parents = pc.list_parent_indices(lists[Raw.ITEM_ID])
        exploded = table.take(parents)
        for name in LIST_COLUMNS:
            flat = pc.list_flatten(lists[name])
            exploded = exploded.set_column(exploded.column_names.index(name), name, flat)
        return exploded


def event_frame(table: pa.Table, skipped: Counter[str] | None = None) -> pd.DataFrame:
    """Clean events as the reader hands them out.

    Ids categorical (coded in order of first appearance), duplicates dropped and counted in
    `skipped`, sorted by time.
    """
    for name in CATEGORICAL:
        table = table.set_column(
            table.column_names.index(name), name, pc.dictionary_encode(table[name]).combine_chunks()
        )
    return _drop_duplicates_and_sort(table.to_pandas(), Counter() if skipped is None else skipped)


def _finish(tables: list[pa.Table], cleaner: EventCleaner, sources: list[str]) -> EventLog:
    table = pa.concat_tables(tables) if tables else EventCleaner().clean(_empty_batch())
    events = event_frame(table, cleaner.skipped)
    rows = max(cleaner.rows_read, 1)
    return EventLog(
        events=events,
        rows_read=cleaner.rows_read,
        skipped=dict(cleaner.skipped),
        missing_share={name: cleaner.missing[name] / rows for name in Raw.ALL},
        sources=sources,
    )


def _drop_duplicates_and_sort(events: pd.DataFrame, skipped: Counter[str]) -> pd.DataFrame:
    duplicated = events.duplicated()
    if duplicated.any():
        skipped[DUPLICATE] += int(duplicated.sum())
        events = events[~duplicated.to_numpy()]
    return events.sort_values(Columns.DATETIME, kind="stable", ignore_index=True)


def _empty_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({name: pa.array([], pa.string()) for name in Raw.ALL})


def read_events(paths: str | Path | Sequence[str | Path], progress: bool = False) -> EventLog:
    """Read and clean every event file; raises `EventReadError` when nothing valid is left."""
    files = find_event_files(paths)
    cleaner = EventCleaner()
    tables = []
    batches: Iterable[pa.RecordBatch] = (
        batch for path in files for batch in _batches(path, cleaner)
    )
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="reading events", unit=" chunks")
    for batch in batches:
        tables.append(cleaner.clean(batch))
    log = _finish(tables, cleaner, [str(path) for path in files])
    names = ", ".join(log.sources)
    if log.rows_read == 0:
        raise EventReadError(f"{names}: no events (header only)")
    if log.events.empty:
        reasons = "; ".join(f"{reason}: {count}" for reason, count in log.skipped.items())
        raise EventReadError(f"{names}: none of {log.rows_read} rows is a valid event ({reasons})")
    return log


def clean_events(raw: pd.DataFrame, source: str = "frame") -> EventLog:
    """Clean a frame already in the export's columns (e.g. the shop's event log) like a file."""
    _check_columns(source, raw.columns)
    cleaner = EventCleaner()
    columns = [name for name in Raw.ALL if name in raw.columns]
    # Arrow writes numbers, dates and times as text the way the CSV path reads them back.
    arrays = [pc.cast(pa.array(raw[name], from_pandas=True), pa.string()) for name in columns]
    tables = [cleaner.clean(pa.RecordBatch.from_arrays(arrays, names=columns))] if len(raw) else []
    return _finish(tables, cleaner, [source])


def merge_event_logs(logs: Sequence[EventLog]) -> EventLog:
    """One log from several sources (files, the shop's DB).

    Counts added up, events re-sorted, and an event that two sources both hold kept once.
    """
    if len(logs) == 1:
        return logs[0]
    rows_read = sum(part.rows_read for part in logs)
    skipped = Counter[str]()
    for part in logs:
        skipped.update(part.skipped)
    frames = [part.events for part in logs if len(part.events)] or [logs[0].events]
    events = pd.concat(frames, ignore_index=True).astype(dict.fromkeys(CATEGORICAL, "category"))
    events = _drop_duplicates_and_sort(events, skipped)
    missing = {
        name: sum(part.missing_share.get(name, 0.0) * part.rows_read for part in logs)
        / max(rows_read, 1)
        for name in Raw.ALL
    }
    return EventLog(
        events=events,
        rows_read=rows_read,
        skipped=dict(skipped),
        missing_share=missing,
        sources=[source for part in logs for source in part.sources],
    )
