"""`vitrina-shop experiments create|list|stop|report` and `vitrina-shop create-admin`."""

import argparse
import getpass
import json
import math
import sys
from datetime import timedelta

import redis
from flask import Flask
from werkzeug.security import generate_password_hash

from vitrina_shop import experiments, kpis
from vitrina_shop.db import create_tables, engine_of, session_scope
from vitrina_shop.estimates import Difference, Estimate
from vitrina_shop.models import Admin, User
from vitrina_shop.visitor import new_id

COMMANDS = ("experiments", "create-admin")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    exp = commands.add_parser("experiments", help="A/B experiments on the recommendations")
    actions = exp.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="start an experiment (one runs at a time)")
    create.add_argument("name")
    create.add_argument(
        "--variant",
        action="append",
        required=True,
        metavar="NAME:STRATEGY:SHARE[:K]",
        help="strategy: active, control (popular only) or a model version; the first variant "
        "is the control; e.g. --variant control:control:50 --variant personal:active:50",
    )
    create.add_argument("--salt", help="hash salt (default: random)")
    actions.add_parser("list", help="every experiment, newest first")
    stop = actions.add_parser("stop", help="stop a running experiment")
    stop.add_argument("name")
    report = actions.add_parser("report", help="KPIs per variant with 95 %% intervals")
    report.add_argument("name")
    report.add_argument("--json", action="store_true", help="one JSON object")
    admin = commands.add_parser("create-admin", help="an account with the admin role (/admin)")
    admin.add_argument("email")
    admin.add_argument("--name", default="Admin")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def run(app: Flask, args: argparse.Namespace) -> int:
    create_tables(engine_of(app))
    try:
        if args.command == "create-admin":
            return _create_admin(app, args)
        return _experiments(app, args)
    except experiments.ExperimentError as exc:
        print(f"vitrina-shop experiments: {exc}", file=sys.stderr)
        return 2


def _create_admin(app: Flask, args: argparse.Namespace) -> int:
    password = (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    )
    if not 8 <= len(password) <= 128:
        print("vitrina-shop create-admin: the password needs 8 to 128 characters", file=sys.stderr)
        return 2
    email = args.email.strip().lower()
    with session_scope(app) as db:
        user = db.query(User).filter(User.email == email).one_or_none()
        if user is None:
            user = User(id=new_id("u"), email=email, name=args.name)
            db.add(user)
        user.password_hash = generate_password_hash(
            password, method=app.config["PASSWORD_HASH_METHOD"]
        )
        db.flush()
        if db.get(Admin, user.id) is None:
            db.add(Admin(user_id=user.id))
    print(f"{email} is an admin: sign in and open /admin")
    return 0


def sync_pins(app: Flask) -> None:
    """Publish the versions the running experiment serves; a failure is a clear message."""
    with session_scope(app) as db:
        versions = experiments.pinned_versions(db)
    try:
        experiments.publish_pins(app.extensions["vitrina_settings"], versions)
    except redis.RedisError as exc:
        if versions:
            raise experiments.ExperimentError(
                f"cannot tell the trainer to keep {sorted(versions)} (Redis: {exc}); "
                "stop the experiment or fix REDIS_URL"
            ) from exc
        print(f"warning: Redis unreachable, pinned versions not cleared ({exc})", file=sys.stderr)


def _experiments(app: Flask, args: argparse.Namespace) -> int:
    if args.action == "create":
        variants = [experiments.parse_variant(text) for text in args.variant]
        with session_scope(app) as db:
            experiments.create(db, args.name, variants, args.salt)
        sync_pins(app)
        print(f"experiment {args.name} is running")
    elif args.action == "stop":
        with session_scope(app) as db:
            experiments.stop(db, args.name)
        sync_pins(app)
        print(f"experiment {args.name} is stopped")
    elif args.action == "list":
        with session_scope(app) as db:
            for e in experiments.listed(db):
                shown = ", ".join(f"{v.name}={v.strategy}:{v.share}" for v in e.variants)
                state = "running" if e.running else f"stopped {e.stopped_at:%Y-%m-%d %H:%M}"
                print(f"{e.name}\t{state}\tstarted {e.started_at:%Y-%m-%d %H:%M}\t{shown}")
    else:
        window = timedelta(hours=app.extensions["vitrina_settings"].attribution_window_h)
        with session_scope(app) as db:
            report = kpis.report(db, args.name, window)
        if args.json:
            print(json.dumps(report.as_json()))
        else:
            print(format_table(report))
    return 0


def _fmt(e: Estimate | Difference, scale: float = 1.0, digits: int = 2) -> str:
    if math.isnan(e.value):
        return "–"
    text = f"{e.value * scale:.{digits}f}"
    if not math.isnan(e.ci_low):
        text += f" [{e.ci_low * scale:.{digits}f}, {e.ci_high * scale:.{digits}f}]"
    return text + (f" p={e.p:.3g}" if isinstance(e, Difference) else "")


def format_table(report: kpis.Report) -> str:
    """The KPI table for a terminal: one block per variant, lifts against the control."""
    srm = "SAMPLE RATIO MISMATCH" if report.sample_ratio_mismatch else "split ok"
    out = [f"experiment {report.experiment}: SRM p={report.srm_p:.3g} ({srm})"]
    for v in report.variants:
        role = "control" if v.control else "variant"
        out.append(f"  {v.name} ({role}, {v.strategy}): {v.visitors} visitors, {v.orders} orders")
        out.append(f"    conversion %        {_fmt(v.conversion, 100)}")
        out.append(f"    revenue / visitor   {_fmt(v.revenue_per_visitor)}")
        out.append(f"    average order value {_fmt(v.average_order_value)}")
        out.append(f"    block CTR %         {_fmt(v.ctr, 100)}")
        out.append(f"    orders / buyer      {_fmt(v.frequency)}")
        out.append(f"    revenue from recos  {_fmt(v.attributed_revenue_share, 100, 1)} %")
        for name, diff in v.lift.items():
            scale = 100 if name in ("conversion", "ctr") else 1
            out.append(f"    lift {name:<20}{_fmt(diff, scale)}")
        mde = v.mde
        out.append(
            f"    MDE (80 % power)    conversion {mde['conversion'] * 100:.2f} pp, "
            f"revenue/visitor {mde['revenue_per_visitor']:.2f}"
        )
    return "\n".join(out)
