"""`make demo`: the whole Vitrina on one machine, without Docker.

Synthetic data when there is none (or the user's `--data`), a training run when no model is
published (or `--retrain`), a private Redis when none is given, then reco-service and the shop.
Ctrl-C stops everything it started. The end-to-end tests start the stack through this same code.
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from vitrina_shared.model_store import ModelStore
from vitrina_shared.processes import ServiceStartError, stop_process_group, wait_for_http
from vitrina_shared.redis_server import PrivateRedis
from vitrina_shared.settings import VitrinaSettings

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


class StackError(RuntimeError):
    """A part of the stack did not come up; the message says which and where its log is."""


@dataclass
class StackConfig:
    data_dir: Path = REPO / "data"
    events: list[Path] = field(default_factory=list)  # empty: synthetic data in data_dir/demo
    items: Path | None = None
    redis_url: str | None = None  # None: a private Redis keeping its data in data_dir/redis
    redis_port: int = 6390
    reco_port: int = 8000
    shop_port: int = 8080
    retrain: bool = False
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    quiet: bool = False


@dataclass
class Stack:
    config: StackConfig
    redis: PrivateRedis | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def redis_url(self) -> str:
        return self.config.redis_url or (self.redis.url if self.redis else "")

    @property
    def reco_url(self) -> str:
        return f"http://127.0.0.1:{self.config.reco_port}"

    @property
    def shop_url(self) -> str:
        return f"http://127.0.0.1:{self.config.shop_port}"

    @property
    def shop_db_url(self) -> str:
        return f"sqlite:///{(self.config.data_dir / 'shop.sqlite3').resolve()}"

    @property
    def logs(self) -> Path:
        return self.config.data_dir / "logs"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "VITRINA_ENV": "development",
            "DATA_DIR": str(self.config.data_dir.resolve()),
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.shop_db_url,
            "SHOP_DB_URL": self.shop_db_url,
            "RECO_URL": self.reco_url,
            "RECO_API_TOKEN": self.config.api_token,
            "PYTHONUNBUFFERED": "1",
        }

    def say(self, message: str) -> None:
        if not self.config.quiet:
            print(f"[demo] {message}", flush=True)

    def run(self, *command: str) -> None:
        """A one-shot step; its output goes to the terminal, a failure stops the demo."""
        self.say(" ".join(command))
        output = subprocess.DEVNULL if self.config.quiet else None
        result = subprocess.run(
            [str(BIN / command[0]), *command[1:]], env=self.env(), stdout=output
        )
        if result.returncode != 0:
            raise StackError(f"`{' '.join(command)}` failed with exit code {result.returncode}")

    def event_paths(self) -> list[Path]:
        if self.config.events:
            return self.config.events
        demo = self.config.data_dir / "demo"
        if not (demo / "events.csv.gz").exists():
            self.run("vitrina-trainer", "generate", "--out", str(demo))
        return [demo / "events.csv.gz"]

    def items_path(self, events: list[Path]) -> Path | None:
        if self.config.items:
            return self.config.items
        beside = events[0] if events[0].is_dir() else events[0].parent
        return beside / "items.csv" if (beside / "items.csv").exists() else None

    def start_redis(self) -> None:
        if self.config.redis_url:
            redis.Redis.from_url(self.config.redis_url, socket_connect_timeout=2).ping()
            return
        self.redis = PrivateRedis(self.config.redis_port, self.config.data_dir / "redis").start()
        self.say(f"redis at {self.redis.url} (data in {self.config.data_dir / 'redis'})")

    def model_published(self) -> bool:
        """Asked of the store the trainer publishes to: the same REDIS_URL and REDIS_PREFIX."""
        settings = VitrinaSettings(REDIS_URL=self.redis_url)
        with ModelStore.connect(settings, timeout=5) as store:
            return store.active_version() is not None

    def train(self, events: list[Path], items: Path | None) -> None:
        command = ["vitrina-trainer", "run", "--events", *map(str, events)]
        if items:
            command += ["--items", str(items)]
        self.run(*command, "--shop-db", self.shop_db_url)

    def spawn(self, name: str, *command: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [str(BIN / command[0]), *command[1:]],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, with its workers
        )
        log.close()

    def wait_until_up(self, name: str, url: str, timeout: float = 60) -> None:
        try:
            wait_for_http(url, self.processes[name], timeout)
        except ServiceStartError as exc:
            raise StackError(f"{name}: {exc}; see {self.logs / (name + '.log')}") from exc

    def start(self) -> "Stack":
        try:
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            events = self.event_paths()
            items = self.items_path(events)
            self.start_redis()
            self.init_shop(events, items)
            if self.config.retrain or not self.model_published():
                self.train(events, items)
            else:
                self.say("a model is published already: serving it (--retrain to train anew)")
            self.start_reco()
            self.start_shop()
        except BaseException:
            self.stop()
            raise
        return self

    def init_shop(self, events: list[Path], items: Path | None) -> None:
        command = ["vitrina-shop", "init", "--events", *map(str, events)]
        self.run(*command, *(["--items", str(items)] if items else []))

    def start_reco(self) -> None:
        self.spawn("reco-service", "vitrina-reco", "--port", str(self.config.reco_port))
        self.wait_until_up("reco-service", f"{self.reco_url}/health")

    def start_shop(self) -> None:
        self.spawn("shop", "vitrina-shop", "--port", str(self.config.shop_port), "--workers", "2")
        self.wait_until_up("shop", f"{self.shop_url}/")

    def stop_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            stop_process_group(process)

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        if self.redis:
            self.redis.stop()
            self.redis = None


def parse_args(argv: list[str] | None = None) -> StackConfig:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__)
    parser.add_argument("--data", nargs="*", type=Path, default=[], help="your event files")
    parser.add_argument("--items", type=Path, help="your items.csv")
    parser.add_argument("--retrain", action="store_true", help="train even if a model is published")
    parser.add_argument("--shop-port", type=int, default=8080)
    parser.add_argument("--reco-port", type=int, default=8000)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"), help="default: private")
    args = parser.parse_args(argv)
    return StackConfig(
        events=args.data,
        items=args.items,
        retrain=args.retrain,
        shop_port=args.shop_port,
        reco_port=args.reco_port,
        redis_url=args.redis_url,
    )


def main(argv: list[str] | None = None) -> int:
    stack = Stack(parse_args(argv))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start()
        stack.say(f"the shop:          {stack.shop_url}")
        stack.say(f"reco-service docs: {stack.reco_url}/docs  (token: {stack.config.api_token})")
        stack.say(f"logs in {stack.logs}; Ctrl-C stops everything")
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(0.5)
        stopped = [name for name, p in stack.processes.items() if p.poll() is not None]
        raise StackError(f"{', '.join(stopped)} stopped; see {stack.logs}")
    except KeyboardInterrupt:
        return 0
    except (StackError, OSError, redis.RedisError) as exc:
        print(f"[demo] {exc}", file=sys.stderr)
        return 1
    finally:
        stack.say("stopping")
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
