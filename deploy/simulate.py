"""`make simulate`: an A/B experiment on the demo's data, driven by simulated shoppers.

Starts the demo's stack (deploy/stack.py) with its own private Redis, reco-service and shop on
free ports and a throw-away data folder, trains on the demo's data, starts the experiment
"personal vs popular control" (50/50; `--aa` for an A/A test, both variants personal), lets
`vitrina-sim` drive `--visitors` shoppers through the shop, and prints the report: the KPI table,
then the JSON object of `vitrina-shop experiments report --json` alone on the last line.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from stack import BIN, REPO, Stack, StackConfig, StackError

from vitrina_shared.redis_server import free_port

DEMO = REPO / "data" / "demo"
EXPERIMENT = "personal-vs-popular"
AB = ("control:control:50", "personal:active:50")
AA = ("a:active:50", "b:active:50")
LOG_SETTLE_S = 2.0  # the shop's exposure log writes a batch within a second
PICKUP_S = 6.0  # each shop worker reads the running experiment again within 5 s


def demo_data() -> tuple[Path, Path]:
    """The demo's synthetic data, generated as `make demo` does when it is missing."""
    if not (DEMO / "events.csv.gz").exists():
        subprocess.run([str(BIN / "vitrina-trainer"), "generate", "--out", str(DEMO)], check=True)
    return DEMO / "events.csv.gz", DEMO / "items.csv"


def shop_command(stack: Stack, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "vitrina-shop"), *args], env=stack.env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        raise StackError(f"`vitrina-shop {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def start_stack(data_dir: Path, events: Path, items: Path) -> Stack:
    """The demo's stack on free ports, with its own Redis and shop database in `data_dir`."""
    config = StackConfig(
        data_dir=data_dir,
        events=[events],
        items=items,
        redis_port=free_port(),
        reco_port=free_port(),
        shop_port=free_port(),
        quiet=True,
    )
    return Stack(config).start()


def run_experiment(
    stack: Stack,
    name: str,
    variants: tuple[str, ...],
    visitors: int,
    seed: int,
    sim_args: tuple[str, ...] = (),
) -> tuple[str, str]:
    """Start the experiment, drive the shoppers, stop it; returns the KPI table and the JSON."""
    variant_args = [arg for v in variants for arg in ("--variant", v)]
    shop_command(stack, "experiments", "create", name, "--salt", f"{name}-{seed}", *variant_args)
    time.sleep(PICKUP_S)  # or the first shoppers would browse outside the experiment
    command = [str(BIN / "vitrina-sim"), "--shop", stack.shop_url, "--visitors", str(visitors)]
    sim = subprocess.run([*command, "--seed", str(seed), *sim_args], env=stack.env())
    if sim.returncode != 0:
        raise StackError(f"vitrina-sim failed with exit code {sim.returncode}")
    time.sleep(LOG_SETTLE_S)
    shop_command(stack, "experiments", "stop", name)
    table = shop_command(stack, "experiments", "report", name)
    return table, shop_command(stack, "experiments", "report", name, "--json").strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make simulate", description=__doc__)
    parser.add_argument("--visitors", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--aa", action="store_true", help="an A/A test: both variants personal")
    args = parser.parse_args(argv)
    name, variants = ("a-vs-a", AA) if args.aa else (EXPERIMENT, AB)
    with tempfile.TemporaryDirectory(prefix="vitrina-simulate-") as folder:
        stack = None
        try:
            stack = start_stack(Path(folder), *demo_data())
            table, report = run_experiment(stack, name, variants, args.visitors, args.seed)
        except (StackError, OSError, redis.RedisError, subprocess.CalledProcessError) as exc:
            print(f"[simulate] {exc}", file=sys.stderr)
            return 1
        finally:
            if stack is not None:
                stack.stop()
    print(table, flush=True)
    print(report, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
