"""Confidence intervals, tests and power for the experiments' KPIs, from statsmodels and scipy.

Proportions: Wilson intervals; a difference of two proportions: Newcombe's hybrid score interval
and the pooled two-proportion z-test. Means (revenue per visitor, order value): t intervals and
Welch's test, which does not assume equal variances. A difference is variant − control, in the
KPI's unit.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chisquare
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

ALPHA = 0.05
POWER = 0.8
NAN = float("nan")


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Difference:
    value: float
    ci_low: float
    ci_high: float
    p: float

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


UNKNOWN = Estimate(NAN, NAN, NAN)
UNKNOWN_DIFFERENCE = Difference(NAN, NAN, NAN, NAN)


def proportion(count: int, nobs: int) -> Estimate:
    if nobs == 0:
        return UNKNOWN
    low, high = proportion_confint(count, nobs, alpha=ALPHA, method="wilson")
    return Estimate(count / nobs, float(low), float(high))


def proportion_difference(count: int, nobs: int, count_c: int, nobs_c: int) -> Difference:
    if nobs == 0 or nobs_c == 0:
        return UNKNOWN_DIFFERENCE
    # Tiny samples (a rate of 0 or 1 in a group) divide by zero inside; the result is then nan.
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = confint_proportions_2indep(
            count, nobs, count_c, nobs_c, method="newcomb", compare="diff", alpha=ALPHA
        )
        if count + count_c in (0, nobs + nobs_c):
            p = 1.0  # both all-zero or all-one: no evidence of any difference
        else:
            _, p = proportions_ztest([count, count_c], [nobs, nobs_c])
    return Difference(count / nobs - count_c / nobs_c, float(low), float(high), float(p))


def ratio(part: float, whole: float) -> Estimate:
    """A share of a sum (revenue from recommendations): its value, no interval."""
    return Estimate(part / whole, NAN, NAN) if whole else UNKNOWN


def mean(values: Sequence[float]) -> Estimate:
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        return Estimate(float(data.mean()) if len(data) else NAN, NAN, NAN)
    stats = DescrStatsW(data)
    if stats.std == 0:
        return Estimate(float(stats.mean), float(stats.mean), float(stats.mean))
    low, high = stats.tconfint_mean(alpha=ALPHA)
    return Estimate(float(stats.mean), float(low), float(high))


def mean_difference(values: Sequence[float], control: Sequence[float]) -> Difference:
    a, b = np.asarray(values, dtype=float), np.asarray(control, dtype=float)
    if len(a) < 2 or len(b) < 2:
        return UNKNOWN_DIFFERENCE
    value = float(a.mean() - b.mean())
    if a.std() == 0 and b.std() == 0:
        return Difference(value, value, value, 1.0 if value == 0 else 0.0)
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    low, high = compare.tconfint_diff(alpha=ALPHA, usevar="unequal")
    _, p, _ = compare.ttest_ind(usevar="unequal")
    return Difference(value, float(low), float(high), float(p))


def sample_ratio_p(visitors: Sequence[int], shares: Sequence[float]) -> float:
    """Chi-square goodness of fit of the visitors per variant to the configured shares.

    A tiny p (below 0.001) means the split is broken and no other figure can be trusted.
    """
    total = sum(visitors)
    if total == 0:
        return NAN
    expected = np.asarray(shares, dtype=float) / sum(shares) * total
    return float(chisquare(np.asarray(visitors, dtype=float), expected).pvalue)


def mde_proportion(base: float, nobs_c: int, nobs: int) -> float:
    """The smallest absolute change of a rate `base` the sizes detect with 80 % power at 5 %."""
    if nobs_c == 0 or nobs == 0 or not 0 < base < 1:
        return NAN
    h = _effect_size(nobs_c, nobs)
    # Cohen's h = 2 asin √p₂ − 2 asin √p₁, solved for p₂.
    raised = math.sin(min(math.asin(math.sqrt(base)) + h / 2, math.pi / 2)) ** 2
    return raised - base


def mde_mean(sd: float, nobs_c: int, nobs: int) -> float:
    """The smallest change of a mean with standard deviation `sd` detectable likewise."""
    if nobs_c == 0 or nobs == 0 or not sd > 0:
        return NAN
    return _effect_size(nobs_c, nobs) * sd


def _effect_size(nobs_c: int, nobs: int) -> float:
    """The standardised effect a two-sample z-test of these sizes detects with 80 % power."""
    return float(
        NormalIndPower().solve_power(
            None, nobs1=nobs_c, alpha=ALPHA, power=POWER, ratio=nobs / nobs_c
        )
    )
