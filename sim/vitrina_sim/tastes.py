"""Hidden tastes: the synthetic generator's own customers, rebuilt from its seed.

The generator draws its catalog and then its customers from one seeded numpy Generator, so the
same config gives back the very customers whose events the demo trained on: their favourite
subcategories with weights, their price level and their habitual products. A shopper judges a
product only by what it is (its subcategory and where its price sits) against these.
"""

import math
from dataclasses import dataclass

import numpy as np

from vitrina_trainer.generator.synthetic import GeneratorConfig, make_catalog, make_customers

# How much a price far from the shopper's level puts it off (scale of |rank − level|).
PRICE_TOLERANCE = 0.25


@dataclass(frozen=True)
class Taste:
    customer_id: str
    favourites: dict[int, float]  # subcategory → weight (the weights sum to 1)
    price_level: float  # 0 cheapest … 1 dearest within a subcategory
    habits: frozenset[str]  # product ids bought again and again


@dataclass(frozen=True)
class World:
    """The products as the shoppers understand them, and the shoppers' tastes."""

    product_sub: dict[str, int]
    product_price_rank: dict[str, float]
    tastes: list[Taste]

    def appeal(self, taste: Taste, product_id: str) -> float:
        """0 (of no interest, or unknown) … 1 (a habitual product at the right price)."""
        sub = self.product_sub.get(product_id)
        if sub is None:
            return 0.0
        gap = abs(self.product_price_rank[product_id] - taste.price_level)
        price_fit = math.exp(-gap / PRICE_TOLERANCE)
        if product_id in taste.habits:
            return 0.5 + 0.5 * price_fit
        liking = min(1.0, 1.5 * taste.favourites.get(sub, 0.0))
        return liking * (0.4 + 0.6 * price_fit)


def build_world(config: GeneratorConfig) -> World:
    rng = np.random.default_rng(config.seed)
    catalog = make_catalog(config, rng)
    customers = make_customers(config, catalog, rng)
    ids = catalog.ids.astype(str)
    weights = np.diff(customers.favourite_cum, prepend=0.0, axis=1)
    tastes = []
    for user in range(config.users):
        favourites: dict[int, float] = {}
        for sub, weight in zip(customers.favourites[user], weights[user], strict=True):
            favourites[int(sub)] = favourites.get(int(sub), 0.0) + float(weight)
        start = customers.habit_start[user]
        habits = customers.habits[start : start + customers.habit_count[user]]
        tastes.append(
            Taste(
                customer_id=customers.ids[user].decode(),
                favourites=favourites,
                price_level=float(customers.price_level[user]),
                habits=frozenset(ids[habits].tolist()),
            )
        )
    return World(
        product_sub=dict(zip(ids.tolist(), catalog.sub.tolist(), strict=True)),
        product_price_rank=dict(zip(ids.tolist(), catalog.price_rank.tolist(), strict=True)),
        tastes=tastes,
    )
