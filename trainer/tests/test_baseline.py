import numpy as np
import pandas as pd

from vitrina_shared.schema import Columns
from vitrina_trainer.baseline import ClusterBaseline
from vitrina_trainer.interactions import Interactions

START = pd.Timestamp("2024-01-01", tz="UTC")


def two_tribes() -> Interactions:
    """Gardeners buy spades and seeds, bakers flour and yeast; a few of each tribe's extras."""
    rows = []
    for i in range(12):
        tribe = ["spade", "seeds", "hose"] if i % 2 == 0 else ["flour", "yeast", "tin"]
        for day, item in enumerate(tribe[: 2 + (i % 4 == 0 or i % 4 == 1)]):
            rows.append((f"u{i}", item, START + pd.Timedelta(days=day)))
    frame = pd.DataFrame(rows, columns=[Columns.USER, Columns.ITEM, Columns.DATETIME])
    return Interactions.from_events(frame)


def test_each_group_gets_its_own_top_products() -> None:
    data = two_tribes()
    baseline = ClusterBaseline(clusters=2, components=2, seed=0).fit(data)
    users = np.array([data.users.get_loc("u2"), data.users.get_loc("u3")])
    top = baseline.candidates(users, 3)
    lists = {
        data.users[u]: set(data.items[group[Columns.ITEM]])
        for u, group in top.groupby(Columns.USER)
    }
    assert lists == {"u2": {"spade", "seeds", "hose"}, "u3": {"flour", "yeast", "tin"}}
    assert top.groupby(Columns.USER)["rank"].apply(list).tolist() == [[1, 2, 3], [1, 2, 3]]


def test_customers_in_no_group_get_everyones_top() -> None:
    data = two_tribes()
    u2 = data.users.get_loc("u2")
    baseline = ClusterBaseline(clusters=2, components=1).fit(data.select(data.user != u2))
    assert baseline.user_cluster[u2] == -1
    assert len(baseline.candidates(np.array([u2]), 2)) == 2
