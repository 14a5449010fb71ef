import numpy as np
import pandas as pd
import pytest

from vitrina_trainer.ranker import Ranker, RankerError, sample_negatives


def learnable(customers: int = 60) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Ten candidates per customer; the bought one has the largest `signal`."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(customers), 10)
    signal = rng.random(len(groups))
    noise = rng.random(len(groups))
    labels = np.zeros(len(groups))
    best = pd.Series(signal).groupby(groups).idxmax().to_numpy()
    labels[best] = 1
    return pd.DataFrame({"signal": signal, "noise": noise}), labels, groups


def test_ranker_learns_the_signal_and_reports_the_gap() -> None:
    features, labels, groups = learnable()
    ranker = Ranker(n_estimators=30, min_child_samples=5).fit(features, labels, groups)
    scores = pd.Series(ranker.predict(features))
    top = scores.groupby(groups).idxmax().to_numpy()
    assert labels[top].mean() > 0.7  # chance would be 0.1
    importance = ranker.feature_importance()
    assert importance.index[0] == "signal"
    assert importance.sum() == pytest.approx(1.0)
    assert 0 < ranker.scores["holdout_ndcg"] <= 1
    assert ranker.scores["customers"] == 60


def test_ranker_without_any_positive_is_a_clear_error() -> None:
    features, labels, groups = learnable()
    with pytest.raises(RankerError, match="no candidate was bought"):
        Ranker().fit(features, labels * 0, groups)


def test_unfitted_ranker_says_so() -> None:
    with pytest.raises(RankerError, match="not fitted"):
        Ranker().predict(pd.DataFrame({"signal": [1.0]}))


def test_negative_sampling_keeps_positives_and_caps_negatives() -> None:
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 2, 2, 2])
    labels = np.array([0, 1, 0, 0, 0, 0, 0, 1, 0, 1])
    keep = sample_negatives(labels, groups, per_group=2, seed=0)
    assert keep[labels == 1].all()
    assert keep[groups == 0].sum() == 3  # its positive and two of four negatives
    assert not keep[groups == 1].any()  # nothing bought: nothing to learn
    assert keep[groups == 2].all()
