"""Regression adjustment (CUPED) agrees with gbstats 0.8.0's ``RegressionAdjustedStatistic`` to 1e-6 (500 random
inputs each for proportions and means, under the fixed-horizon, sequential and Bayesian tests); its multivariate
form (personality covariates) is ordinary least squares on the pooled sample; segment corrections are
Benjamini–Hochberg's."""

import math

import numpy as np
import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import (
    ProportionStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)
from scipy.stats import false_discovery_control

from experiments import stats

TOL = 1e-6

# gbstats computes the e-value with np.exp, which overflows (to a p-value of 0) on overwhelming differences.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")


def close(a, b):
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def proportion_arms(rng):
    """Two arms of (converted, converted before exposure) rows, correlated, of random sizes and rates."""
    arms = []
    base, lift, pre_rate = rng.uniform(0.02, 0.4), rng.uniform(0.0, 0.5), rng.uniform(0.0, 0.6)
    for arm in range(2):
        n = int(rng.integers(20, 8000))
        pre = rng.random(n) < pre_rate
        p = np.clip(base * (1 + rng.uniform(-0.2, 0.2) * arm) + lift * pre, 0, 1)
        post = rng.random(n) < p
        arms.append(np.column_stack([post, pre]).astype(float))
    return arms


def mean_arms(rng):
    """Two arms of (value, value before exposure) rows: skewed, zero-inflated, correlated."""
    arms = []
    slope, share = rng.uniform(-0.5, 1.5), rng.uniform(0.05, 0.9)
    for arm in range(2):
        n = int(rng.integers(20, 8000))
        pre = rng.exponential(30, n) * (rng.random(n) < share)
        post = np.maximum(0, slope * pre + rng.exponential(20, n) * (rng.random(n) < share) * (1 + 0.1 * arm))
        if rng.random() < 0.05:
            pre = np.zeros(n)  # no pre-exposure data at all: gbstats falls back to the unadjusted test
        arms.append(np.column_stack([post, pre]))
    return arms


def gb_statistic(moments: stats.Moments, kind: str):
    if kind == stats.PROPORTION:
        post = ProportionStatistic(n=moments.n, sum=moments.sums[0])
        pre = ProportionStatistic(n=moments.n, sum=moments.sums[1])
    else:
        post = SampleMeanStatistic(n=moments.n, sum=moments.sums[0], sum_squares=moments.products[0][0])
        pre = SampleMeanStatistic(n=moments.n, sum=moments.sums[1], sum_squares=moments.products[1][1])
    return RegressionAdjustedStatistic(
        n=moments.n,
        post_statistic=post,
        pre_statistic=pre,
        post_pre_sum_of_products=moments.products[0][1],
        theta=0,
    )


def check_against_gbstats(arms, kind, rng):
    alpha = float(rng.choice([0.01, 0.05, 0.1]))
    tuning = float(rng.choice([1000, 5000, 50_000]))
    a, b = (stats.moments_from_values(arm) for arm in arms)
    adjustment = stats.regression_adjustment(a, b, kinds=[kind, kind], names=["pre"])

    theta = compute_theta(gb_statistic(a, kind), gb_statistic(b, kind))
    assert close(adjustment.theta["pre"], theta)
    assert adjustment.adjusted == (theta != 0)

    tests = [
        (TwoSidedTTest, FrequentistConfig(alpha=alpha), lambda x, y: stats.frequentist(x, y, alpha=alpha)),
        (
            SequentialTwoSidedTTest,
            SequentialConfig(alpha=alpha, sequential_tuning_parameter=tuning),
            lambda x, y: stats.sequential(x, y, alpha=alpha, tuning=tuning),
        ),
    ]
    for test, cfg, mine in tests:
        ref = test(gb_statistic(a, kind), gb_statistic(b, kind), cfg).compute_result()
        got = mine(adjustment.a, adjustment.b)
        assert got["error"] == ref.error_message
        assert close(got["uplift"], ref.expected)
        assert close(got["p_value"], ref.p_value)
        assert close(got["ci"][0], ref.ci[0]) and close(got["ci"][1], ref.ci[1])

    ref = EffectBayesianABTest(gb_statistic(a, kind), gb_statistic(b, kind), EffectBayesianConfig(alpha=alpha))
    ref = ref.compute_result()
    got = stats.bayesian(adjustment.a, adjustment.b, alpha=alpha)
    assert got["error"] == ref.error_message
    assert close(got["chance_to_win"], ref.chance_to_win)
    assert close(got["risk"][0], ref.risk[0]) and close(got["risk"][1], ref.risk[1])
    assert close(got["ci"][0], ref.ci[0]) and close(got["ci"][1], ref.ci[1])


@pytest.mark.parametrize("seed", range(500))
def test_regression_adjusted_proportions_match_gbstats(seed):
    rng = np.random.default_rng(40_000 + seed)
    check_against_gbstats(proportion_arms(rng), stats.PROPORTION, rng)


@pytest.mark.parametrize("seed", range(500))
def test_regression_adjusted_means_match_gbstats(seed):
    rng = np.random.default_rng(50_000 + seed)
    check_against_gbstats(mean_arms(rng), stats.MEAN, rng)


def personality_arms(rng, n=(4000, 4000), effect=0.0, with_test=0.6):
    """Rows (y, pre, took the test, N, E, O, A, C): y depends on the pre-period and on two traits."""
    arms = []
    for arm, size in enumerate(n):
        pre = rng.exponential(10, size) * (rng.random(size) < 0.3)
        took = (rng.random(size) < with_test).astype(float)
        traits = (rng.integers(1, 100, (size, 5)) - 50) / 100 * took[:, None]
        y = 5 + 0.8 * pre + 30 * traits[:, 1] - 20 * traits[:, 4] + rng.normal(0, 4, size) + effect * arm
        arms.append(np.column_stack([y, pre, took, traits]))
    return arms


NAMES = ["pre_exposure", "took_big_five", "N", "E", "O", "A", "C"]
KINDS = [stats.MEAN] * 8


@pytest.mark.parametrize("seed", range(20))
def test_the_multivariate_adjustment_is_least_squares_on_the_pooled_sample(seed):
    rng = np.random.default_rng(60_000 + seed)
    arms = personality_arms(rng, n=(int(rng.integers(300, 3000)), int(rng.integers(300, 3000))), effect=0.5)
    a, b = (stats.moments_from_values(arm) for arm in arms)
    adjustment = stats.regression_adjustment(a, b, kinds=KINDS, names=NAMES)
    assert adjustment.adjusted and adjustment.covariates == tuple(NAMES)

    pooled = np.vstack(arms)
    x = pooled[:, 1:] - pooled[:, 1:].mean(axis=0)
    y = pooled[:, 0] - pooled[:, 0].mean()
    theta = np.linalg.lstsq(x, y, rcond=None)[0]
    assert np.allclose([adjustment.theta[n] for n in NAMES], theta, rtol=1e-8, atol=1e-10)

    for arm, adjusted in zip(arms, (adjustment.a, adjustment.b), strict=True):
        residual = arm[:, 0] - arm[:, 1:] @ theta
        assert close(adjusted.mean, residual.mean())
        assert close(adjusted.variance, residual.var(ddof=1))
        assert close(adjusted.raw_mean, arm[:, 0].mean())


def test_personality_covariates_narrow_the_interval_beyond_the_pre_period_alone():
    rng = np.random.default_rng(7)
    arms = personality_arms(rng, effect=0.3)
    a, b = (stats.moments_from_values(arm) for arm in arms)
    plain = stats.frequentist(stats.unadjusted(a, stats.MEAN), stats.unadjusted(b, stats.MEAN), alpha=0.05)
    pre_only = stats.regression_adjustment(a.select([0, 1]), b.select([0, 1]), kinds=KINDS[:2], names=NAMES[:1])
    full = stats.regression_adjustment(a, b, kinds=KINDS, names=NAMES)
    pre_result = stats.frequentist(pre_only.a, pre_only.b, alpha=0.05)
    full_result = stats.frequentist(full.a, full.b, alpha=0.05)
    pre_gain = stats.variance_reduction(pre_result, plain)
    full_gain = stats.variance_reduction(full_result, plain)
    assert 0 < pre_gain["variance_reduction"] < full_gain["variance_reduction"] < 1
    assert full_gain["interval_narrower"] == pytest.approx(1 - math.sqrt(1 - full_gain["variance_reduction"]), rel=1e-3)
    # The adjustment moves the estimate by chance only: it stays within the unadjusted interval.
    assert plain["ci"][0] < full_result["uplift"] < plain["ci"][1]


def test_covariates_that_do_not_vary_are_left_out():
    rng = np.random.default_rng(11)
    arms = personality_arms(rng, with_test=0.0)  # nobody took the test: the five traits and the flag are all 0
    a, b = (stats.moments_from_values(arm) for arm in arms)
    full = stats.regression_adjustment(a, b, kinds=KINDS, names=NAMES)
    alone = stats.regression_adjustment(a.select([0, 1]), b.select([0, 1]), kinds=KINDS[:2], names=NAMES[:1])
    assert full.covariates == ("pre_exposure",)
    assert full.a == alone.a and full.b == alone.b
    assert full.theta["N"] == 0.0 and full.theta["pre_exposure"] == alone.theta["pre_exposure"]

    nothing = stats.regression_adjustment(a.select([0, 3]), b.select([0, 3]), kinds=KINDS[:2], names=["N"])
    assert not nothing.adjusted and nothing.a == stats.unadjusted(a, stats.MEAN)


def test_an_adjusted_a_a_comparison_is_unbiased():
    """Over many A/A splits the adjusted uplift averages 0 and its interval covers 0 as often as promised."""
    rng = np.random.default_rng(3)
    covered, estimates = 0, []
    for _ in range(300):
        a, b = (stats.moments_from_values(arm) for arm in personality_arms(rng, n=(600, 600)))
        adjustment = stats.regression_adjustment(a, b, kinds=KINDS, names=NAMES)
        result = stats.frequentist(adjustment.a, adjustment.b, alpha=0.05)
        estimates.append(result["uplift"])
        covered += result["ci"][0] <= 0 <= result["ci"][1]
    assert abs(np.mean(estimates)) < 3 * np.std(estimates) / math.sqrt(len(estimates))
    assert covered / 300 >= 0.92


@pytest.mark.parametrize("seed", range(200))
def test_benjamini_hochberg_matches_scipy(seed):
    rng = np.random.default_rng(70_000 + seed)
    size = int(rng.integers(1, 40))
    p = rng.random(size) ** float(rng.uniform(0.5, 4))
    if size > 3:
        p[1] = p[0]  # ties
    assert np.allclose(stats.benjamini_hochberg(list(p)), false_discovery_control(p, method="bh"), atol=1e-12)
