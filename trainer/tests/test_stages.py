import logging

import pytest

from vitrina_trainer.stages import StageLog, progress


def test_stage_logs_time_and_memory(caplog):
    stages = StageLog()
    with caplog.at_level(logging.INFO, logger="vitrina_trainer"), stages.stage("load"):
        pass
    (timing,) = stages.timings
    assert timing.name == "load"
    assert timing.seconds >= 0
    assert 0 < timing.rss_mb <= timing.peak_rss_mb
    assert any(
        r.getMessage().startswith("stage load: done in ") and "MB" in r.getMessage()
        for r in caplog.records
    )


def test_failed_stage_is_logged_and_reraised(caplog):
    stages = StageLog()
    with (
        caplog.at_level(logging.INFO, logger="vitrina_trainer"),
        pytest.raises(KeyError),
        stages.stage("fit"),
    ):
        raise KeyError("x")
    assert [t.name for t in stages.timings] == ["fit"]
    assert any("stage fit: FAILED in" in r.getMessage() for r in caplog.records)


def test_progress_passes_items_through():
    assert list(progress(range(3), desc="x")) == [0, 1, 2]
