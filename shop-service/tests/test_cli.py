import re
import socket
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from vitrina_shared.ids import MAX_ID_LENGTH
from vitrina_shop import cli
from vitrina_shop.models import Product, User
from vitrina_shop.money import MAX_PRICE100


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
    assert (
        "products: 5 added, 0 updated, 0 skipped; customers: 3 added, 0 updated, 0 skipped"
        in capsys.readouterr().out
    )
    cli.main(["init", "--items", str(items), "--events", str(events)])
    second = "products: 0 added, 5 updated, 0 skipped; customers: 0 added, 3 updated, 0 skipped"
    assert second in capsys.readouterr().out
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
    assert "products: 0 added, 5 updated, 0 skipped; customers: 0 added, 3 updated" in result.output


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


def test_init_skips_and_counts_the_rows_no_table_can_hold(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path, capsys
) -> None:
    """A 10 MB title is shortened.

    An id over 128 characters, NUL bytes and prices beyond the documented range are rows skipped and
    counted. A 128-character id is kept whole.
    """
    longest, too_long = "L" * MAX_ID_LENGTH, "T" * (MAX_ID_LENGTH + 72)
    items = tmp_path / "items.csv"
    items.write_bytes(
        (
            "nm,title,category,price100\n"
            f"A1,{'x' * 10_000_000},kitchen,100\n"
            f"{longest},Longest id,kitchen,200\n"
            f"{too_long},Too long id,kitchen,300\n"
            "N1,Nul\x00title,kitchen,400\n"
            "N2,Nul category,kit\x00chen,500\n"
            "P1,Huge price,kitchen,1e30\n"
            f"P2,Just too dear,kitchen,{MAX_PRICE100 + 1}\n"
            f"P3,Dearest,kitchen,{MAX_PRICE100}\n"
        ).encode()
    )
    monkeypatch.setenv("DATABASE_URL", database_url)
    cli.main(["init", "--items", str(items)])
    report = re.search(r"products: (\d+) added, 0 updated, (\d+) skipped", capsys.readouterr().out)
    assert report and int(report[1]) + int(report[2]) == 8
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = {p.id: (p.title, p.category, p.price100) for p in conn.execute(select(Product))}
    engine.dispose()
    assert not any("\x00" in "".join(map(str, (key, *row))) for key, row in stored.items())
    assert (len(stored["A1"][0]), stored["A1"][2]) == (300, 100)
    assert stored[longest] == ("Longest id", "kitchen", 200)
    assert stored["P3"][2] == MAX_PRICE100
    assert not {too_long, "P1", "P2"} & set(stored)


@pytest.mark.parametrize("command", [["init"], ["--port", "0"]])
def test_a_database_nobody_listens_on_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys, command: list[str]
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://shop:pw@127.0.0.1:{port}/shop")
    with pytest.raises(SystemExit) as exc:
        cli.main(command)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "pw" not in err
    assert f"cannot use the database postgresql+psycopg://shop:***@127.0.0.1:{port}/shop" in err


def test_a_weak_production_secret_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("VITRINA_ENV", "production")
    monkeypatch.setenv("SHOP_SECRET_KEY", "x")
    with pytest.raises(SystemExit) as exc:
        cli.main(["--port", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vitrina-shop: ") and "SHOP_SECRET_KEY" in err
