"""`vitrina-sim --shop URL --visitors N [--seed S]`: simulated shoppers visit a running shop.

Loopback only, and bounded: at most `--visitors` visits, `--rate` new visits a second and
`--max-seconds` in all. Each visitor is a different customer of the synthetic data (the generator
rebuilt from `--data-seed`, `--data-users`, `--data-items`: the demo's defaults), signed in with
the demo switch; its decisions come from its own seeded random stream.
"""

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import numpy as np

from vitrina_sim.shopper import Behaviour, Visit, VisitError, shop
from vitrina_sim.tastes import World, build_world
from vitrina_trainer.generator.synthetic import GeneratorConfig

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_VISITORS = 100_000
DEFAULT_BEHAVIOUR = Behaviour()


def _visit(url: str, world: World, customer: int, seed: int, behaviour: Behaviour) -> Visit | str:
    rng = np.random.default_rng([seed, customer])
    taste = world.tastes[customer]
    try:
        with httpx.Client(base_url=url, timeout=15.0) as client:
            return shop(client, world, taste, rng, behaviour)
    except (httpx.HTTPError, VisitError) as exc:
        return f"{taste.customer_id}: {exc}"


def run(
    url: str,
    world: World,
    visitors: int,
    seed: int,
    concurrency: int,
    rate: float,
    max_seconds: float,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> tuple[list[Visit], list[str]]:
    """The visits done and the errors, visitors drawn without repeats while there are enough."""
    rng = np.random.default_rng(seed)
    count = len(world.tastes)
    customers = rng.choice(count, size=visitors, replace=visitors > count)
    deadline = time.monotonic() + max_seconds
    done: list[Visit] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(customer: int) -> None:
        if time.monotonic() > deadline:
            return
        result = _visit(url, world, int(customer), seed, behaviour)
        with lock:
            (done.append if isinstance(result, Visit) else errors.append)(result)

    with ThreadPoolExecutor(concurrency) as pool:
        started = time.monotonic()
        for index, customer in enumerate(customers):
            wait = started + index / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() > deadline:
                break
            pool.submit(one, customer)
    return done, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vitrina-sim", description=__doc__)
    parser.add_argument("--shop", required=True, help="the shop's URL, on loopback")
    parser.add_argument("--visitors", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1, help="the shoppers' decisions")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50.0, help="new visits per second, at most")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    defaults = GeneratorConfig()
    parser.add_argument("--data-seed", type=int, default=defaults.seed)
    parser.add_argument("--data-users", type=int, default=defaults.users)
    parser.add_argument("--data-items", type=int, default=defaults.items)
    args = parser.parse_args(argv)
    if urlsplit(args.shop).hostname not in LOOPBACK:
        parser.error("--shop must be on this machine (127.0.0.1, localhost or ::1)")
    if not 1 <= args.visitors <= MAX_VISITORS:
        parser.error(f"--visitors must be from 1 to {MAX_VISITORS}")
    if not (1 <= args.concurrency <= 64 and args.rate > 0 and args.max_seconds > 0):
        parser.error("--concurrency 1–64, --rate and --max-seconds positive")
    world = build_world(
        GeneratorConfig(users=args.data_users, items=args.data_items, seed=args.data_seed)
    )
    started = time.monotonic()
    done, errors = run(
        args.shop.rstrip("/"),
        world,
        args.visitors,
        args.seed,
        args.concurrency,
        args.rate,
        args.max_seconds,
    )
    for error in errors[:5]:
        print(f"vitrina-sim: visit failed: {error}", file=sys.stderr)
    print(
        f"vitrina-sim: {len(done)} visits ({len(errors)} failed) in "
        f"{time.monotonic() - started:.0f} s: {sum(v.requests for v in done)} requests, "
        f"{sum(v.clicks for v in done)} clicks, {sum(len(v.carted) for v in done)} adds to cart, "
        f"{sum(v.ordered for v in done)} orders"
    )
    return 0 if done and len(errors) <= len(done) // 20 else 1


if __name__ == "__main__":
    sys.exit(main())
