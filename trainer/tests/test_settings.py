import pydantic
import pytest

from vitrina_trainer.settings import TrainerSettings


def test_defaults_and_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TRAINER_TOP_K", "60")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = TrainerSettings()
    assert (settings.top_k, settings.versions_kept, settings.shop_db_url) == (60, 3, None)
    assert settings.evaluation_json == tmp_path / "reports" / "evaluation.json"


def test_flags_override_the_environment(monkeypatch):
    monkeypatch.setenv("TRAINER_TOP_K", "60")
    assert TrainerSettings(TRAINER_TOP_K=80).top_k == 80


def test_top_k_below_fifty_is_refused():
    with pytest.raises(pydantic.ValidationError, match="TRAINER_TOP_K"):
        TrainerSettings(TRAINER_TOP_K=10)


def test_threads_default_to_the_usable_cores(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2})
    assert TrainerSettings().threads == 3
    monkeypatch.setenv("TRAINER_THREADS", "1")
    assert TrainerSettings().threads == 1
