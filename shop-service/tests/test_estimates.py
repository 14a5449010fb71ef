"""The KPI statistics against published numbers."""

import math

import pytest
from scipy import stats

from vitrina_shop import estimates

# Welch's t-test example of Wikipedia's "Welch's t-test" article: t = −2.46, ν ≈ 24.9, p = 0.021.
A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def test_wilson_interval_of_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:857, example 81/263: 0.2553 to 0.3662.
    e = estimates.proportion(81, 263)
    assert (round(e.ci_low, 4), round(e.ci_high, 4)) == (0.2553, 0.3662)


def test_difference_of_proportions_of_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:873, 56/70 − 48/80, method 10: 0.0524 to 0.3339.
    d = estimates.proportion_difference(56, 70, 48, 80)
    assert d.value == pytest.approx(0.2)
    assert (round(d.ci_low, 4), round(d.ci_high, 4)) == (0.0524, 0.3339)
    assert d.significant
    # The pooled z-test is the chi-square test of the 2×2 table without continuity correction.
    table = [[56, 14], [48, 32]]
    assert d.p == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue)


def test_welch_test_of_the_textbook_example():
    d = estimates.mean_difference(A1, A2)
    assert round(d.p, 3) == 0.021
    assert d.ci_high < 0 and d.significant
    t = stats.ttest_ind(A1, A2, equal_var=False)
    assert round(t.statistic, 2) == -2.46


def test_sample_ratio_chi_square():
    assert estimates.sample_ratio_p([5050, 4950], [50, 50]) == pytest.approx(0.3173, abs=1e-4)
    assert estimates.sample_ratio_p([1000, 1000], [50, 50]) == 1.0
    assert estimates.sample_ratio_p([5300, 4700], [50, 50]) < 0.001  # a broken split


def test_minimum_detectable_effect_of_cohen():
    # Two-sided 5 %, power 80 %: n per group = 15.7 / h², so h = 0.2 needs ≈ 393 per group.
    assert estimates.mde_mean(1.0, 393, 393) == pytest.approx(0.2, abs=0.001)
    base = 0.1
    raised = base + estimates.mde_proportion(base, 1000, 1000)
    h = 2 * math.asin(math.sqrt(raised)) - 2 * math.asin(math.sqrt(base))
    assert h == pytest.approx(math.sqrt(15.698 / 1000), rel=1e-3)


def test_no_data_is_nan_not_an_error():
    assert math.isnan(estimates.proportion(0, 0).value)
    assert math.isnan(estimates.mean_difference([1.0], [2.0]).p)
    assert estimates.proportion_difference(0, 10, 0, 10).p == 1.0
