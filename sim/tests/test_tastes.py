import pytest

from vitrina_sim.cli import main
from vitrina_sim.tastes import build_world
from vitrina_trainer.generator.synthetic import GeneratorConfig, generate

CONFIG = GeneratorConfig(users=60, items=120, seed=7)


def test_the_shoppers_are_the_generators_customers():
    world = build_world(CONFIG)
    data = generate(CONFIG)
    customers = {t.customer_id for t in world.tastes}
    assert set(data.events.user_ids.astype(str)[data.events.user]) <= customers
    assert len(customers) == CONFIG.users
    assert set(world.product_sub) == set(data.catalog.ids.astype(str))
    for taste in world.tastes:
        assert sum(taste.favourites.values()) == pytest.approx(1.0)
        assert taste.habits <= set(world.product_sub)


def test_appeal_follows_the_hidden_taste():
    world = build_world(CONFIG)
    taste = world.tastes[0]
    habit = next(iter(taste.habits))
    liked_sub = max(taste.favourites, key=taste.favourites.__getitem__)
    liked = [p for p, s in world.product_sub.items() if s == liked_sub and p not in taste.habits]
    other = [p for p, s in world.product_sub.items() if s not in taste.favourites]
    assert world.appeal(taste, habit) >= 0.5
    assert max(world.appeal(taste, p) for p in liked) > 0
    assert all(world.appeal(taste, p) == 0 for p in other)
    assert world.appeal(taste, "no-such-product") == 0


def test_only_a_shop_on_this_machine(capsys):
    with pytest.raises(SystemExit):
        main(["--shop", "http://example.com", "--visitors", "1"])
    assert "must be on this machine" in capsys.readouterr().err
