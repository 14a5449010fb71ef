"""The baseline of the design doc: customers clustered into groups, each group's top products.

Customers are embedded by a truncated SVD of their (log, recency-decayed) user × item matrix and
grouped by k-means; a group's list is its members' summed decayed interactions. It has the same
contract as a candidate source, so the evaluation scores it the same way.
"""

from typing import Self

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

from vitrina_shared.schema import Columns
from vitrina_trainer.interactions import Interactions, top_n_per_row


class ClusterBaseline:
    name = "baseline"

    def __init__(
        self,
        clusters: int = 30,
        components: int = 32,
        half_life_days: float = 60.0,
        seed: int = 42,
    ):
        self.clusters = clusters
        self.components = components
        self.half_life_days = half_life_days
        self.seed = seed
        self.user_cluster: np.ndarray | None = None
        self.cluster_items: pd.DataFrame | None = None
        self.everyone: pd.DataFrame | None = None

    def fit(self, data: Interactions) -> Self:
        decayed = data.decayed_matrix(self.half_life_days)
        matrix = decayed.log1p()
        active = np.flatnonzero(matrix.getnnz(axis=1))
        components = max(1, min(self.components, data.n_items - 1, len(active) - 1))
        embedding = TruncatedSVD(components, random_state=self.seed).fit_transform(matrix[active])
        embedding = normalize(embedding)
        clusters = max(1, min(self.clusters, len(active)))
        labels = MiniBatchKMeans(
            clusters, random_state=self.seed, n_init=3, batch_size=4096
        ).fit_predict(embedding)
        self.user_cluster = np.full(data.n_users, -1, dtype=np.int64)
        self.user_cluster[active] = labels
        membership = sp.csr_matrix(
            (np.ones(len(active), np.float32), (labels, active)), shape=(clusters, data.n_users)
        )
        scores = membership @ decayed
        self.cluster_items = top_n_per_row(scores, data.n_items)
        self.everyone = top_n_per_row(sp.csr_matrix(scores.sum(axis=0)), data.n_items)
        return self

    def candidates(self, users: np.ndarray, n: int) -> pd.DataFrame:
        """Each customer's group's top n; customers in no group get everyone's top n."""
        users = np.asarray(users, dtype=np.int64)
        cluster = self.user_cluster[users]
        lists = pd.concat(
            [
                self.cluster_items[self.cluster_items[Columns.RANK] <= n],
                self.everyone[self.everyone[Columns.RANK] <= n].assign(**{Columns.USER: -1}),
            ],
            ignore_index=True,
        ).rename(columns={Columns.USER: "cluster"})
        frame = pd.DataFrame({Columns.USER: users.astype(np.int32), "cluster": cluster})
        merged = frame.merge(lists, on="cluster", how="inner", sort=False)
        return merged[[Columns.USER, Columns.ITEM, Columns.SCORE, Columns.RANK]].reset_index(
            drop=True
        )
