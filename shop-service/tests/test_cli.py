from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from vitrina_shop import cli
from vitrina_shop.models import Product, User


def _counts(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = (
            conn.scalar(select(func.count()).select_from(Product)),
            conn.scalar(select(func.count()).select_from(User)),
        )
    engine.dispose()
    return counts


def test_vitrina_shop_init_is_idempotent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_files: tuple[Path, Path], capsys
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    items, events = data_files
    cli.main(["init", "--items", str(items), "--events", str(events)])
    assert "products: 5 added, 0 updated; customers: 3 added, 0 updated" in capsys.readouterr().out
    cli.main(["init", "--items", str(items), "--events", str(events)])
    assert "products: 0 added, 5 updated; customers: 0 added, 3 updated" in capsys.readouterr().out
    assert _counts(url) == (5, 3)


def test_init_reads_items_and_events_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data_files: tuple[Path, Path]
) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ITEMS", str(data_files[0]))
    monkeypatch.setenv("EVENTS", str(data_files[1]))
    cli.main(["init"])
    assert _counts(url) == (5, 3)


def test_flask_init_db_command(app, data_files: tuple[Path, Path]) -> None:
    result = app.test_cli_runner().invoke(
        args=["init-db", "--items", str(data_files[0]), "--events", str(data_files[1])]
    )
    assert result.exit_code == 0, result.output
    assert "products: 0 added, 5 updated; customers: 0 added, 3 updated" in result.output


def test_serve_refuses_to_start_in_production_with_the_dev_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.delenv("SHOP_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--port", "0"])
    assert exc.value.code == 2


def test_init_with_an_unreadable_file_says_which(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bad.sqlite3'}")
    broken = tmp_path / "events.csv"
    broken.write_text("user_id,ecom.nm\nu1,A1\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["init", "--events", str(broken)])
    assert exc.value.code == 1
    assert f"{broken}: missing required column" in capsys.readouterr().err
