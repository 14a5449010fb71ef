"""`vitrina-trainer status`: the published versions as a table an operator can read."""

from collections.abc import Sequence
from typing import Any

from vitrina_shared.model_meta import ModelMeta
from vitrina_shared.model_store import VersionInfo
from vitrina_shared.settings import hide_password

MAIN_METRIC = "ndcg@10"


def _day(value: Any) -> str:
    return str(value)[:10] if value else "?"


def format_versions(
    versions: Sequence[VersionInfo], redis_url: str, building: Sequence[str] = ()
) -> str:
    """One line per version, newest first; the active one is marked with `*`.

    `building` are versions being written, or left half-written by a killed run.
    """
    notes = [
        f"being written, or left by a killed run (pruned once its lock is gone): {version}"
        for version in building
    ]
    if not versions:
        return "\n".join(
            [f"no model version published in Redis at {hide_password(redis_url)}", *notes]
        )
    header = ("", "version", "published (UTC)", "data", "users", "events", MAIN_METRIC)
    rows = [header]
    for info in versions:
        meta = ModelMeta.model_validate(info.meta)
        metric = meta.metrics.get(MAIN_METRIC)
        rows.append(
            (
                "*" if info.active else "",
                info.version,
                f"{info.published_at:%Y-%m-%d %H:%M}",
                f"{_day(meta.data.first)} … {_day(meta.data.last)}",
                f"{meta.counts.users:,}",
                f"{meta.data.events:,}",
                f"{metric:.4f}" if isinstance(metric, int | float) else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join([*lines, *notes])
