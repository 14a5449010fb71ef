from collections import Counter

import pytest
from sqlalchemy import select

from vitrina_shop import experiments
from vitrina_shop.db import session_scope
from vitrina_shop.experiments import ExperimentError, VariantSpec
from vitrina_shop.models import Impression

AB = [VariantSpec("control", "control", 50), VariantSpec("personal", "v-old", 50, k=3)]


def test_assignment_is_deterministic_and_follows_the_shares():
    shares = [70, 30]
    picks = [experiments.bucket("salt", f"user{i}", shares) for i in range(20_000)]
    assert picks == [experiments.bucket("salt", f"user{i}", shares) for i in range(20_000)]
    assert Counter(picks)[0] / len(picks) == pytest.approx(0.7, abs=0.015)
    other_salt = [experiments.bucket("pepper", f"user{i}", shares) for i in range(20_000)]
    assert picks != other_salt  # a new salt reshuffles the visitors


@pytest.mark.parametrize(
    ("name", "variants", "message"),
    [
        ("x y", AB, "the name must be"),
        ("ok", AB[:1], "at least two variants"),
        ("ok", [AB[0], AB[0]], "must differ"),
        ("ok", [AB[0], VariantSpec("p", "active", 0)], "share must be"),
        ("ok", [AB[0], VariantSpec("p", "active", 5, k=0)], "k must be"),
        ("ok", [AB[0], VariantSpec("p", "a b", 5)], "strategy must be"),
    ],
)
def test_a_bad_experiment_is_refused_with_the_reason(app, name, variants, message):
    with session_scope(app) as db, pytest.raises(ExperimentError, match=message):
        experiments.create(db, name, variants)


def test_one_experiment_runs_at_a_time(app):
    with session_scope(app) as db:
        experiments.create(db, "first", AB)
    with session_scope(app) as db, pytest.raises(ExperimentError, match="'first' is running"):
        experiments.create(db, "second", AB)
    with session_scope(app) as db:
        experiments.stop(db, "first")
        experiments.create(db, "second", AB)
        assert experiments.pinned_versions(db) == {"v-old"}


def test_each_variant_gets_its_strategy_on_every_page(app, fake_reco, shopper):
    fake_reco.answer("/recommendations/u1", ["A2", "B1", "C1"])
    fake_reco.answer("/recommendations/u2", ["A2", "B1", "C1"])
    salt = next(  # a salt that puts the two customers in different variants
        s
        for s in map(str, range(100))
        if len({experiments.bucket(s, u, [50, 50]) for u in ("u1", "u2")}) == 2
    )
    with session_scope(app) as db:
        experiments.create(db, "ab", AB, salt=salt)
    by_user = {u: experiments.bucket(salt, u, [50, 50]) for u in ("u1", "u2")}
    for user in ("u1", "u2"):
        shopper.browse_as(user)
        for _ in range(2):
            page = shopper.client.get("/").get_data(as_text=True)
            assert ('data-testid="recommended"' in page) == (by_user[user] == 1)
        shopper.logout()
    asked = [query for path, query, _ in fake_reco.requests if path.startswith("/recommendations")]
    assert asked and all(q["version"] == ["v-old"] and q["k"] == ["3"] for q in asked)
    app.extensions["vitrina_exposure"].flush()
    with session_scope(app) as db:
        seen = {(i.visitor_id, i.variant) for i in db.scalars(select(Impression))}
    assert {(u, AB[by_user[u]].name) for u in by_user} <= seen


def test_the_cli_pins_the_versions_a_running_experiment_serves(app, redis_url, redis_client):
    from vitrina_shop import commands

    settings = app.extensions["vitrina_settings"]
    app.extensions["vitrina_settings"] = settings.model_copy(update={"redis_url": redis_url})
    create = commands.argparse.Namespace(
        command="experiments",
        action="create",
        name="pinned",
        variant=["old:v-old:50", "new:active:50"],
        salt=None,
    )
    assert commands.run(app, create) == 0
    assert redis_client.smembers("vitrina:pinned") == {b"v-old"}
    stop = commands.argparse.Namespace(command="experiments", action="stop", name="pinned")
    assert commands.run(app, stop) == 0
    assert not redis_client.exists("vitrina:pinned")
    assert commands.run(app, stop) == 2  # stopped already: a clear refusal
