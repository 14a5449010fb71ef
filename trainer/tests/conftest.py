"""Fixtures of the trainer's tests: small, deterministic event frames in the reader's schema."""

import numpy as np
import pandas as pd
import pytest

from vitrina_shared.schema import Columns


def make_events(users: int = 40, items: int = 30, days: int = 20, seed: int = 7) -> pd.DataFrame:
    """Customers who re-buy a few favourite products and sometimes try a popular one."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2024-03-01", tz="UTC")
    popularity = 1.0 / np.arange(1, items + 1)
    popularity /= popularity.sum()
    for user in range(users):
        favourites = rng.choice(items, 3, replace=False)
        for day in range(days):
            if rng.random() < 0.5:
                continue
            chosen = [rng.choice(favourites), rng.choice(items, p=popularity)]
            for item in chosen:
                rows.append(
                    (
                        f"u{user}",
                        f"p{item}",
                        start + pd.Timedelta(days=day, hours=user % 12),
                        "purchase",
                        100 * (item + 1),
                        1,
                    )
                )
    frame = pd.DataFrame(
        rows,
        columns=[
            Columns.USER,
            Columns.ITEM,
            Columns.DATETIME,
            Columns.EVENT,
            Columns.PRICE,
            Columns.QTY,
        ],
    )
    return frame.sort_values(Columns.DATETIME, kind="stable").reset_index(drop=True)


@pytest.fixture(scope="session")
def shop_events() -> pd.DataFrame:
    return make_events()
