"""A/B experiments on the recommendations: definitions in the shop's database, assignment by hash.

At most one experiment runs at a time. A visitor's variant is `sha256(salt, visitor id)` mapped
onto the variants' traffic shares: the same on every page and every worker, with no state kept.
The visitor id is the customer id once signed in, else the guest id of the signed session; so a
guest who signs in is assigned anew, by the customer id, from then on (what the guest saw stays
recorded under the guest id). The first variant is the control the others are compared with.

Versions a running experiment serves are published to Redis (`RedisKeys.pinned`) so that the
trainer's pruning keeps them.
"""

import hashlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from vitrina_shared.ids import is_valid_id
from vitrina_shared.redis_layout import RedisKeys
from vitrina_shared.settings import VitrinaSettings
from vitrina_shop.db import get_db
from vitrina_shop.models import Experiment, Variant
from vitrina_shop.visitor import visitor_id

ACTIVE = "active"
CONTROL = "control"
MAX_K = 100
CACHE = "vitrina_experiment"
CACHE_TTL_S = 5.0
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ExperimentError(ValueError):
    """An experiment that cannot be created or changed; the message says why."""


@dataclass(frozen=True)
class VariantSpec:
    name: str
    strategy: str
    share: int
    k: int = 12

    @property
    def version(self) -> str | None:
        """The model version to ask reco-service for; None for the active one or the control."""
        return None if self.strategy in (ACTIVE, CONTROL) else self.strategy

    @property
    def personal(self) -> bool:
        return self.strategy != CONTROL


@dataclass(frozen=True)
class Assignment:
    experiment: str
    variant: VariantSpec


@dataclass(frozen=True)
class RunningExperiment:
    name: str
    salt: str
    variants: tuple[VariantSpec, ...]

    def assign(self, visitor: str) -> VariantSpec:
        return self.variants[bucket(self.salt, visitor, [v.share for v in self.variants])]


def bucket(salt: str, visitor: str, shares: Sequence[int]) -> int:
    """Index of the share that `hash(salt, visitor)` falls in: uniform, stable, stateless."""
    digest = hashlib.sha256(f"{salt}\x00{visitor}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") * sum(shares) >> 64
    for index, share in enumerate(shares):
        if point < share:
            return index
        point -= share
    return len(shares) - 1


def parse_variant(text: str) -> VariantSpec:
    """`name:strategy:share[:k]`, e.g. `personal:active:50`, `control:control:50`."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ExperimentError(f"variant {text!r}: expected name:strategy:share[:k]")
    name, strategy, share = parts[:3]
    try:
        return VariantSpec(name, strategy, int(share), int(parts[3]) if len(parts) == 4 else 12)
    except ValueError as exc:
        raise ExperimentError(f"variant {text!r}: share and k must be integers") from exc


def _check(name: str, variants: Sequence[VariantSpec]) -> None:
    if not NAME.match(name):
        raise ExperimentError(
            "the name must be 1–64 letters, digits, '.', '_' or '-', starting with one of the first"
        )
    if len(variants) < 2:
        raise ExperimentError("an experiment needs at least two variants")
    if len({v.name for v in variants}) != len(variants):
        raise ExperimentError("variant names must differ")
    for v in variants:
        if not NAME.match(v.name):
            raise ExperimentError(f"variant name {v.name!r}: letters, digits, '.', '_' or '-'")
        if not 1 <= v.share <= 1000:
            raise ExperimentError(f"variant {v.name}: the share must be from 1 to 1000")
        if not 1 <= v.k <= MAX_K:
            raise ExperimentError(f"variant {v.name}: k must be from 1 to {MAX_K}")
        if not is_valid_id(v.strategy):
            raise ExperimentError(
                f"variant {v.name}: the strategy must be active, control or a model version"
            )


def create(
    db: Session, name: str, variants: Sequence[VariantSpec], salt: str | None = None
) -> Experiment:
    """A new running experiment; refused while another one runs or when the name is taken."""
    _check(name, variants)
    if db.scalar(select(Experiment.id).where(Experiment.name == name)) is not None:
        raise ExperimentError(f"an experiment named {name!r} exists already")
    other = running(db)
    if other is not None:
        raise ExperimentError(f"experiment {other.name!r} is running: stop it first")
    experiment = Experiment(
        name=name,
        salt=salt or secrets.token_hex(8),
        variants=[
            Variant(
                position=i,
                name=v.name,
                share=v.share,
                strategy=v.strategy,
                k=v.k,
                is_control=i == 0,
            )
            for i, v in enumerate(variants)
        ],
    )
    db.add(experiment)
    db.flush()
    return experiment


def stop(db: Session, name: str) -> Experiment:
    experiment = get(db, name)
    if not experiment.running:
        raise ExperimentError(f"experiment {name!r} is stopped already")
    experiment.running = False
    experiment.stopped_at = datetime.now(UTC)
    return experiment


def get(db: Session, name: str) -> Experiment:
    experiment = db.scalar(select(Experiment).where(Experiment.name == name))
    if experiment is None:
        raise ExperimentError(f"no experiment named {name!r}")
    return experiment


def listed(db: Session) -> list[Experiment]:
    return list(db.scalars(select(Experiment).order_by(Experiment.started_at.desc())))


def running(db: Session) -> Experiment | None:
    return db.scalar(select(Experiment).where(Experiment.running).limit(1))


def specs(experiment: Experiment) -> tuple[VariantSpec, ...]:
    return tuple(VariantSpec(v.name, v.strategy, v.share, v.k) for v in experiment.variants)


def _running_now() -> RunningExperiment | None:
    """The running experiment, read at most every few seconds per app (not once per page)."""
    cached = current_app.extensions.get(CACHE)
    if cached is not None and time.monotonic() - cached[0] < CACHE_TTL_S:
        return cached[1]
    found = running(get_db())
    snapshot = RunningExperiment(found.name, found.salt, specs(found)) if found else None
    current_app.extensions[CACHE] = (time.monotonic(), snapshot)
    return snapshot


def current() -> Assignment | None:
    """The visitor's experiment and variant on this request, or None when none runs."""
    if "assignment" not in g:
        experiment = _running_now()
        g.assignment = (
            Assignment(experiment.name, experiment.assign(visitor_id())) if experiment else None
        )
    return g.assignment


def pinned_versions(db: Session) -> set[str]:
    found = running(db)
    return {v.version for v in specs(found) if v.version} if found else set()


def publish_pins(settings: VitrinaSettings, versions: set[str]) -> None:
    """Tell the trainer which versions to keep: the set is replaced in one transaction."""
    keys = RedisKeys(settings.redis_prefix)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.delete(keys.pinned)
            if versions:
                pipe.sadd(keys.pinned, *sorted(versions))
            pipe.execute()
    finally:
        client.close()
