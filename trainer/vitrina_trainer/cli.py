"""`vitrina-trainer`: the batch job's commands."""

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vitrina_shared.log_format import escape_controls
from vitrina_trainer.errors import EXPECTED_ERRORS, TrainerError
from vitrina_trainer.stages import configure_logging

if TYPE_CHECKING:
    from vitrina_trainer.pipeline import RunResult
    from vitrina_trainer.settings import TrainerSettings


def _generate(args: argparse.Namespace) -> int:
    from vitrina_trainer.generator import GeneratorConfig, write_dataset

    out = Path(args.out)
    if args.if_missing and (out / "events.csv.gz").exists():
        print(f"{out / 'events.csv.gz'} exists: nothing generated")
        return 0
    config = GeneratorConfig(
        users=args.users, items=args.items, days=args.days, start=args.start, seed=args.seed
    )
    print(write_dataset(config, out, raw_export=args.raw_export))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from vitrina_shared.catalog import read_items
    from vitrina_shared.events import read_events
    from vitrina_trainer.evaluation import backtest_table, evaluate, metrics_table, write_report
    from vitrina_trainer.settings import TrainerSettings

    out = Path(args.out) if args.out else TrainerSettings().reports_dir
    events = read_events(args.events).events
    items = read_items(args.items) if args.items else None
    result = evaluate(events, items, cuts=args.cuts)
    json_path, html_path = write_report(result, out)
    print(metrics_table(result, "allowed").round(4).to_string())
    if len(args.cuts) > 1:
        print(backtest_table(result).to_string())
    print(f"wrote {json_path} and {html_path}")
    return 0


BACKTEST_CUTS = (0.7, 0.8, 0.9)


def _cuts(text: str) -> tuple[float, ...]:
    """`0.7,0.8,0.9` → (0.7, 0.8, 0.9): increasing fractions strictly between 0 and 1."""
    try:
        cuts = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not all(0 < cut < 1 for cut in cuts) or list(cuts) != sorted(set(cuts)):
        raise argparse.ArgumentTypeError(
            f"cuts must be increasing fractions between 0 and 1, got {text!r}"
        )
    return cuts


def _settings(args: argparse.Namespace) -> "TrainerSettings":
    """Settings from the environment, with the flags given on the command line on top."""
    from vitrina_trainer.settings import TrainerSettings

    flags = {
        "REDIS_URL": getattr(args, "redis_url", None),
        "TRAINER_TOP_K": getattr(args, "top_k", None),
        "SHOP_DB_URL": getattr(args, "shop_db", None),
        "TRAINER_ENGINE": getattr(args, "engine", None),
        "SPARK_MASTER": getattr(args, "spark_master", None),
    }
    return TrainerSettings(**{name: value for name, value in flags.items() if value is not None})


def _run(args: argparse.Namespace) -> int:
    from vitrina_trainer.stages import exit_on_sigterm

    exit_on_sigterm()
    settings = _settings(args)
    result = _train(settings, args.events, args.items)
    done = result.published
    print(
        f"published version {done.version}: {done.users:,} users, {done.similar:,} similar "
        f"lists, in {result.stages.total_seconds:.1f} s"
    )
    return 0


def _train(settings: "TrainerSettings", events: list[str] | None, items: str | None) -> "RunResult":
    """One run on the given files, else on EVENTS / ITEMS, plus the shop's event log."""
    from vitrina_trainer.pipeline import run

    paths = [Path(p) for p in events] if events else []
    if not paths and settings.events_path:
        paths = [settings.events_path]
    if not paths and not settings.shop_db_url:
        raise TrainerError("nothing to train on: give --events PATH… (or EVENTS) and/or --shop-db")
    catalog = Path(items) if items else settings.items_path
    if settings.engine == "spark":
        return _train_on_spark(settings, [str(p) for p in events or paths], catalog)
    return run(settings, paths, catalog, settings.shop_db_url)


def _train_on_spark(
    settings: "TrainerSettings", events: list[str], items: Path | None
) -> "RunResult":
    """The Spark engine: pyspark is imported here only, so the default needs no Spark or Java."""
    from vitrina_trainer.spark.session import spark_session

    if settings.shop_db_url:
        raise TrainerError("the Spark engine reads event files only: unset SHOP_DB_URL/--shop-db")
    if not events:
        raise TrainerError("the Spark engine needs --events PATH… (or EVENTS)")
    spark = spark_session(settings.spark_master)
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    from vitrina_trainer.spark.engine import run as run_on_spark

    try:
        return run_on_spark(settings, spark, events, items)
    except (Py4JJavaError, PySparkException) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainerError(f"the Spark job failed: {first_line}") from exc
    finally:
        spark.stop()


def _schedule(args: argparse.Namespace) -> int:
    from vitrina_trainer.schedule import run_schedule
    from vitrina_trainer.stages import exit_on_sigterm

    exit_on_sigterm()
    settings = _settings(args)
    run_schedule(settings, lambda: _train(settings, args.events, args.items))
    return 0


def _status(args: argparse.Namespace) -> int:
    from vitrina_shared.model_store import ModelStore
    from vitrina_trainer.status import format_versions

    settings = _settings(args)
    with ModelStore.connect(settings, settings.redis_timeout_s) as store:
        print(format_versions(store.versions(), settings.redis_url, store.unfinished_versions()))
    return 0


def _health(args: argparse.Namespace) -> int:
    from vitrina_shared.model_store import ModelStore
    from vitrina_trainer.schedule import ScheduleState, health

    settings = _settings(args)
    with ModelStore.connect(settings, settings.redis_timeout_s) as store:
        active = store.active_version()
    healthy, message = health(active, ScheduleState.load(settings.schedule_state_path))
    print(f"{'healthy' if healthy else 'unhealthy'}: {message}")
    return 0 if healthy else 1


def _rollback(args: argparse.Namespace) -> int:
    from vitrina_shared.model_store import ModelStore

    settings = _settings(args)
    with ModelStore.connect(settings, settings.redis_timeout_s) as store:
        was = store.active_version()
        now = store.rollback()
    print(f"active version is now {now} (was {was})")
    return 0


def _eda(args: argparse.Namespace) -> int:
    from vitrina_shared.events import read_events
    from vitrina_trainer.eda import write_eda

    out = Path(args.out) if args.out else _settings(args).reports_dir
    html_path, json_path = write_eda(read_events(args.events, progress=sys.stderr.isatty()), out)
    print(f"wrote {html_path} and {json_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vitrina-trainer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate", help="synthetic data in the event schema, plus items.csv"
    )
    generate.add_argument("--out", required=True, help="folder for events.csv.gz and items.csv")
    generate.add_argument("--users", type=int, default=5_000)
    generate.add_argument("--items", type=int, default=2_000)
    generate.add_argument("--days", type=int, default=14)
    generate.add_argument("--start", default="2023-07-31", help="first day, UTC")
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument(
        "--raw-export",
        action="store_true",
        help="write the raw export form: bracketed multi-product events and `ec.` prefixes",
    )
    generate.add_argument(
        "--if-missing", action="store_true", help="do nothing when OUT already holds events"
    )
    generate.set_defaults(handler=_generate)

    evaluate = commands.add_parser(
        "evaluate", help="offline evaluation: baseline, each candidate source, two-stage model"
    )
    evaluate.add_argument("--events", nargs="+", required=True, help="event files or folders")
    evaluate.add_argument("--items", help="the catalog, items.csv")
    evaluate.add_argument("--out", help="report folder (default: DATA_DIR/reports)")
    evaluate.add_argument(
        "--cuts",
        type=_cuts,
        default=BACKTEST_CUTS,
        help="comma-separated quantiles of event time to cut at, in increasing order: a "
        "rolling-origin backtest whose last cut is the headline (default 0.7,0.8,0.9; 0.9 for "
        "one cut)",
    )
    evaluate.set_defaults(handler=_evaluate)

    run = commands.add_parser("run", help="the daily job: train on everything, publish to Redis")
    run.add_argument("--events", nargs="+", help="event files or folders (env EVENTS)")
    run.add_argument("--items", help="the catalog, items.csv (env ITEMS)")
    run.add_argument("--shop-db", help="SQLAlchemy URL of the shop's database (env SHOP_DB_URL)")
    run.add_argument("--top-k", type=int, help="products stored per user, >= 50 (TRAINER_TOP_K)")
    run.add_argument("--redis-url", help="where to publish (env REDIS_URL)")
    run.add_argument(
        "--engine",
        choices=["default", "spark"],
        help="default: one process; spark: on a Spark cluster (env TRAINER_ENGINE)",
    )
    run.add_argument(
        "--spark-master", help="local[N], spark://host:7077 or k8s://… (env SPARK_MASTER)"
    )
    run.set_defaults(handler=_run)

    schedule = commands.add_parser(
        "schedule", help="train now if no model is published, then daily at TRAIN_AT (UTC)"
    )
    schedule.add_argument("--events", nargs="+", help="event files or folders (env EVENTS)")
    schedule.add_argument("--items", help="the catalog, items.csv (env ITEMS)")
    schedule.add_argument(
        "--shop-db", help="SQLAlchemy URL of the shop's database (env SHOP_DB_URL)"
    )
    schedule.add_argument("--redis-url", help="where to publish (env REDIS_URL)")
    schedule.set_defaults(handler=_schedule)

    status = commands.add_parser("status", help="list the published model versions")
    status.add_argument("--redis-url", help="env REDIS_URL")
    status.set_defaults(handler=_status)

    health = commands.add_parser(
        "health", help="exit 0 when a model is served or the first run is under way (healthcheck)"
    )
    health.add_argument("--redis-url", help="env REDIS_URL")
    health.set_defaults(handler=_health)

    rollback = commands.add_parser("rollback", help="switch back to the previous version")
    rollback.add_argument("--redis-url", help="env REDIS_URL")
    rollback.set_defaults(handler=_rollback)

    eda = commands.add_parser("eda", help="the data quality + EDA report (HTML + JSON)")
    eda.add_argument("--events", nargs="+", required=True, help="event files or folders")
    eda.add_argument("--out", help="report folder (default: DATA_DIR/reports)")
    eda.set_defaults(handler=_eda)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return args.handler(args)
    except EXPECTED_ERRORS as exc:
        print(
            f"vitrina-trainer {args.command}: error: {escape_controls(str(exc))}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        print(f"vitrina-trainer {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
