"""The default engine stays free of Spark; the Spark engine's refusals are one clear line."""

import subprocess
import sys

from vitrina_trainer.cli import main


def test_the_default_engine_never_imports_pyspark():
    code = (
        "import sys, vitrina_trainer.cli, vitrina_trainer.pipeline, vitrina_shared.model_store; "
        "sys.exit('pyspark' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_spark_engine_reads_files_only(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    args = ["run", "--engine", "spark", "--shop-db", "sqlite://", "--events", str(tmp_path)]
    assert main(args) == 1
    assert "reads event files only" in capsys.readouterr().err


def test_the_spark_engine_says_what_is_missing(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert main(["run", "--engine", "spark", "--events", str(tmp_path)]) == 1
    assert "needs a Java runtime" in capsys.readouterr().err
