"""`vitrina-trainer`: the batch job's commands."""

import argparse
import sys
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from vitrina_trainer.generate import GeneratorConfig, write_dataset

    out = Path(args.out)
    if args.if_missing and (out / "events.csv.gz").exists():
        print(f"{out / 'events.csv.gz'} exists: nothing generated")
        return 0
    config = GeneratorConfig(
        users=args.users, items=args.items, days=args.days, start=args.start, seed=args.seed
    )
    print(write_dataset(config, out, raw_export=args.raw_export))
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
