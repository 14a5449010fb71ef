import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from vitrina_shared.events import BAD_PRICE
from vitrina_shared.log_format import CONTROL
from vitrina_shared.model_meta import DataSummary, ModelMeta
from vitrina_shared.model_store import ModelStore
from vitrina_shared.reasons import ReasonCode, parse_reason
from vitrina_shared.redis_layout import POPULAR, decode_ranking
from vitrina_trainer.cli import main
from vitrina_trainer.generator import GeneratorConfig, write_dataset
from vitrina_trainer.publish import publish

HEADER = (
    "platform,utc_event_time,utc_event_date,user_id,event_type,ecom.price100,ecom.qty,ecom.nm\n"
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    write_dataset(GeneratorConfig(users=300, items=120, days=14, seed=3), out)
    return out


@pytest.fixture
def env(monkeypatch, tmp_path, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOP_DB_URL", raising=False)
    return tmp_path / "data"


def tiny_version(store: ModelStore) -> str:
    recos = pd.DataFrame({"user_id": ["u1"], "item_id": ["a"], "score": [1.0], "rank": [1]})
    similar = pd.DataFrame(columns=["target_item_id", "item_id", "score", "rank"])
    popular = pd.DataFrame({"item_id": ["a"], "score": [1.0], "rank": [1]})
    return publish(store, recos, similar, popular, ModelMeta(data=DataSummary(events=1))).version


@pytest.mark.slow
def test_run_trains_and_publishes_end_to_end(env, dataset, redis_url, capsys):
    reports = env / "reports"
    reports.mkdir(parents=True)
    (reports / "evaluation.json").write_text(
        json.dumps({"metrics": [{"model": "two-stage", "bought": "allowed", "ndcg@10": 0.42}]})
    )
    args = [
        "run",
        "--events",
        str(dataset / "events.csv.gz"),
        "--items",
        str(dataset / "items.csv"),
    ]
    assert main([*args, "--top-k", "60"]) == 0
    assert "published version" in capsys.readouterr().out

    store = ModelStore.from_url(redis_url)
    version = store.active_version()
    (info,) = store.versions()
    meta = info.meta
    events = pd.read_csv(dataset / "events.csv.gz", dtype=str)
    assert meta["data"]["users"] == events["user_id"].nunique() == meta["counts"]["users"]
    assert meta["data"]["events"] <= len(events) and meta["top_k"] == 60
    assert meta["metrics"]["ndcg@10"] == 0.42
    assert {"trained_at", "config", "feature_importance", "stages"} <= meta.keys()
    assert [s["name"] for s in meta["stages"]] == ["connect", "load", "eda", "fit", "recommend"]

    buyer = events.loc[events["event_type"] == "purchase", "user_id"].iloc[0]
    ranking = decode_ranking(store.client.hget(store.keys.users(version), buyer))
    assert len(ranking.items) == len(set(ranking.items)) == 60
    assert ranking.scores == sorted(ranking.scores, reverse=True)
    bought = set(
        events.loc[(events["user_id"] == buyer) & (events["event_type"] == "purchase"), "ecom.nm"]
    )
    assert set(ranking.bought) == bought
    assert len(ranking.reasons) == 60
    assert {parse_reason(r).code for r in ranking.reasons} <= set(ReasonCode)
    assert all(
        parse_reason(reason).code == ReasonCode.BOUGHT_BEFORE
        for item, reason in zip(ranking.items, ranking.reasons, strict=True)
        if item in bought
    )
    seen = set(events.loc[events["user_id"] == buyer, "ecom.nm"])
    discovery = ranking.discovery
    assert len(discovery.items) == len(set(discovery.items)) == len(discovery.reasons) == 60
    assert not seen & set(discovery.items)
    assert discovery.scores == sorted(discovery.scores, reverse=True)
    assert store.client.hlen(store.keys.users(version)) == meta["counts"]["users"]
    assert (
        len(decode_ranking(store.client.hget(store.keys.fallbacks(version), POPULAR)).items) == 100
    )
    assert store.client.hlen(store.keys.similar(version)) > 0
    assert (reports / "eda.html").exists() and (reports / "eda.json").exists()

    assert main(["status"]) == 0
    assert f"*  {version}" in capsys.readouterr().out


def test_status_and_rollback(env, redis_url, capsys):
    store = ModelStore.from_url(redis_url)
    assert main(["status"]) == 0
    assert capsys.readouterr().out.startswith("no model version published in Redis at redis://")
    old, new = tiny_version(store), tiny_version(store)

    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(f"*  {new}") and lines[2].startswith(f"   {old}")

    assert main(["rollback"]) == 0
    assert capsys.readouterr().out == f"active version is now {old} (was {new})\n"
    assert store.active_version() == old

    assert main(["rollback"]) == 1
    assert "there is no earlier version to roll back to" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER, "no events (header only)"),
        ("", "the file is empty"),
        (
            HEADER + "Site,2024-01-01 10:00:00+00:00,,,view_item,100,1,\n",
            "none of 1 rows is a valid event",
        ),
    ],
    ids=["header-only", "empty", "all-bad"],
)
def test_bad_input_fails_with_a_clear_message(env, tmp_path, capsys, content, message):
    path = tmp_path / "events.csv"
    path.write_text(content)
    assert main(["run", "--events", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("vitrina-trainer run: error: ") and message in err


def test_too_little_data_fails_with_a_clear_message(env, tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "Site,2024-01-01 10:00:00+00:00,,u1,purchase,100,1,a\n")
    assert main(["run", "--events", str(path)]) == 1
    assert capsys.readouterr().err.startswith("vitrina-trainer run: error: ")


@pytest.mark.parametrize("cuts", ["0.9,0.8", "0.7,1.2", "0.7,x", "0"])
def test_bad_cuts_are_refused_with_a_clear_message(tmp_path, capsys, cuts):
    with pytest.raises(SystemExit):
        main(["evaluate", "--events", str(tmp_path), "--cuts", cuts])
    assert "--cuts" in capsys.readouterr().err


def test_nothing_to_train_on(env, capsys):
    assert main(["run"]) == 1
    assert "nothing to train on" in capsys.readouterr().err


def test_redis_unreachable_fails_fast_before_training(env, dataset, monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["run", "--events", str(dataset / "events.csv.gz")]) == 1
    assert "Redis at redis://127.0.0.1:1/0 is unreachable" in capsys.readouterr().err


def test_bad_setting_is_a_clear_error(env, monkeypatch, capsys):
    monkeypatch.setenv("TRAINER_TOP_K", "5")
    assert main(["status"]) == 1
    assert "TRAINER_TOP_K" in capsys.readouterr().err


def test_eda_command_writes_the_report(env, dataset, tmp_path, capsys):
    assert (
        main(["eda", "--events", str(dataset / "events.csv.gz"), "--out", str(tmp_path / "eda")])
        == 0
    )
    assert (tmp_path / "eda" / "eda.html").exists() and (tmp_path / "eda" / "eda.json").exists()
    assert "wrote" in capsys.readouterr().out


def test_the_console_script_prints_no_traceback(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vitrina_trainer.cli",
            "eda",
            "--events",
            str(tmp_path / "missing.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "vitrina-trainer eda: error: " in result.stderr
        and "no such file or folder" in result.stderr
    )


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vitrina_trainer.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0"},
    )


def one_error_line(result: subprocess.CompletedProcess, command: str) -> str:
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"vitrina-trainer {command}: error: ")
    assert not CONTROL.search(line)
    return line


GARBAGE = bytes(range(256)) * 64


@pytest.mark.parametrize(
    ("name", "cut"),
    [
        ("events.csv.gz", "garbage"),
        ("events.csv.gz", "truncated"),
        ("events.parquet", "garbage"),
        ("events.csv", "garbage"),
    ],
)
def test_a_garbage_events_file_is_one_line_naming_it(dataset, tmp_path, name, cut):
    body = (dataset / "events.csv.gz").read_bytes()
    path = tmp_path / name
    path.write_bytes(body[: len(body) // 2] if cut == "truncated" else GARBAGE)
    line = one_error_line(run_cli("eda", "--events", str(path)), "eda")
    assert str(path) in line


@pytest.mark.parametrize("name", ["items.csv", "items.csv.gz"])
def test_a_garbage_catalog_is_one_line_naming_it(dataset, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(GARBAGE)
    result = run_cli("evaluate", "--events", str(dataset / "events.csv.gz"), "--items", str(path))
    assert f"{path}: not a readable CSV file" in one_error_line(result, "evaluate")


def test_control_characters_never_reach_the_terminal_raw(tmp_path):
    path = tmp_path / "events\x1b[2J\x07\nforged.csv"
    line = one_error_line(run_cli("eda", "--events", str(path)), "eda")
    assert "events\\x1b[2J\\x07\\x0aforged.csv: no such file or folder" in line


def test_the_trainer_log_escapes_control_characters():
    code = (
        "import logging; from vitrina_trainer.stages import configure_logging; "
        "configure_logging(); logging.getLogger('vitrina_trainer').warning('bad %s', 'a\\x00b\\nc')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    (line,) = result.stderr.splitlines()
    assert line.endswith("WARNING vitrina_trainer: bad a\\x00b\\x0ac")


def test_an_events_row_beyond_int64_is_skipped_and_counted(env, tmp_path, capsys):
    rows = [
        f"Site,2024-01-0{day} 10:00:00+00:00,,u{user},purchase,100,1,i{(user + day) % 7}\n"
        for day in range(1, 8)
        for user in range(40)
    ]
    huge = "Site,2024-01-02 10:00:00+00:00,,u1,purchase,99999999999999999999,1,i1\n"
    path = tmp_path / "events.csv"
    path.write_text(HEADER + "".join(rows) + huge)
    assert main(["eda", "--events", str(path), "--out", str(tmp_path / "eda")]) == 0
    quality = json.loads((tmp_path / "eda" / "eda.json").read_text())["quality"]
    assert (quality["rows_read"], quality["events_kept"]) == (281, 280)
    assert [(s["reason"], s["rows"]) for s in quality["skipped"]] == [(BAD_PRICE, 1)]
