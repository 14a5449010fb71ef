"""One log line per stage of a run, with its wall time and memory, and progress bars for long ones.

The timings are kept so a run can put them in its metadata and the benchmark can print them.
"""

import logging
import resource
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import psutil
from tqdm import tqdm

from vitrina_shared.log_format import SafeFormatter

log = logging.getLogger("vitrina_trainer")
T = TypeVar("T")
MB = 1024 * 1024


@dataclass(frozen=True)
class StageTiming:
    name: str
    seconds: float
    rss_mb: float
    peak_rss_mb: float


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / MB


class StageLog:
    """Time the named stages of a run: `with stages.stage("fit"): ...`."""

    def __init__(self) -> None:
        self.timings: list[StageTiming] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("stage %s: started", name)
        started = time.perf_counter()
        ok = False
        try:
            yield
            ok = True
        finally:
            now = rss_mb()
            timing = StageTiming(name, time.perf_counter() - started, now, max(now, peak_rss_mb()))
            self.timings.append(timing)
            log.info(
                "stage %s: %s in %.1f s, rss %.0f MB, peak %.0f MB",
                name,
                "done" if ok else "FAILED",
                timing.seconds,
                timing.rss_mb,
                timing.peak_rss_mb,
            )

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(t) for t in self.timings]

    @property
    def total_seconds(self) -> float:
        return sum(t.seconds for t in self.timings)


def progress(
    items: Iterable[T], desc: str, total: int | None = None, unit: str = "it"
) -> Iterable[T]:
    """A tqdm bar on stderr when it is a terminal; silent in logs, cron and tests."""
    return tqdm(
        items,
        desc=desc,
        total=total,
        unit=unit,
        unit_scale=True,
        disable=not sys.stderr.isatty(),
        leave=False,
    )


def configure_logging() -> None:
    """Log lines on stderr, with any control character of a message written as a visible escape.

    Such as a NUL of a bad input file, or an escape sequence in a path.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def exit_on_sigterm() -> None:
    """Turn SIGTERM (docker stop, a scheduler's timeout) into SystemExit so cleanup code runs."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
