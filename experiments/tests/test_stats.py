"""Statistics agree with GrowthBook's engine (gbstats 0.8.0, test-only) to 1e-6 on random count sets."""

import math
import random

import pytest
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from gbstats.utils import check_srm

from experiments import stats

TOL = 1e-6


def close(a, b):
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def random_proportions(rng):
    n_a, n_b = rng.randint(20, 200_000), rng.randint(20, 200_000)
    rate = rng.uniform(0.005, 0.6)
    x_a = max(1, min(n_a - 1, int(n_a * rate * rng.uniform(0.7, 1.3))))
    x_b = max(1, min(n_b - 1, int(n_b * rate * rng.uniform(0.7, 1.3))))
    return n_a, x_a, n_b, x_b


@pytest.mark.parametrize("seed", range(400))
def test_conversion_rate_matches_gbstats(seed):
    rng = random.Random(seed)
    n_a, x_a, n_b, x_b = random_proportions(rng)
    alpha = rng.choice([0.01, 0.05, 0.1, 0.2])
    ga, gb = ProportionStatistic(n=n_a, sum=x_a), ProportionStatistic(n=n_b, sum=x_b)
    a, b = stats.proportion(n_a, x_a), stats.proportion(n_b, x_b)

    ref = TwoSidedTTest(ga, gb, FrequentistConfig(alpha=alpha)).compute_result()
    mine = stats.frequentist(a, b, alpha=alpha)
    assert close(mine["uplift"], ref.expected)
    assert close(mine["p_value"], ref.p_value)
    assert close(mine["ci"][0], ref.ci[0]) and close(mine["ci"][1], ref.ci[1])

    bref = EffectBayesianABTest(ga, gb, EffectBayesianConfig(alpha=alpha)).compute_result()
    bayes = stats.bayesian(a, b, alpha=alpha)
    assert close(bayes["chance_to_win"], bref.chance_to_win)
    assert close(bayes["risk"][0], bref.risk[0]) and close(bayes["risk"][1], bref.risk[1])
    assert close(bayes["ci"][0], bref.ci[0]) and close(bayes["ci"][1], bref.ci[1])


@pytest.mark.parametrize("seed", range(200))
def test_mean_value_welch_matches_gbstats(seed):
    rng = random.Random(1000 + seed)
    out = []
    for _ in range(2):
        n = rng.randint(5, 50_000)
        values = [rng.expovariate(1 / 40) if rng.random() < 0.2 else 0.0 for _ in range(min(n, 300))]
        scale = n / len(values)
        total = sum(values) * scale
        squares = sum(v * v for v in values) * scale
        out.append((n, total, squares))
    (n_a, s_a, ss_a), (n_b, s_b, ss_b) = out
    if s_a == 0:
        s_a, ss_a = 10.0, 100.0
    ref = TwoSidedTTest(
        SampleMeanStatistic(n=n_a, sum=s_a, sum_squares=ss_a), SampleMeanStatistic(n=n_b, sum=s_b, sum_squares=ss_b)
    ).compute_result()
    mine = stats.frequentist(stats.sample_mean(n_a, s_a, ss_a), stats.sample_mean(n_b, s_b, ss_b), alpha=0.05)
    assert close(mine["uplift"], ref.expected)
    assert close(mine["p_value"], ref.p_value)
    assert close(mine["ci"][0], ref.ci[0]) and close(mine["ci"][1], ref.ci[1])


@pytest.mark.parametrize("seed", range(200))
def test_srm_matches_gbstats(seed):
    rng = random.Random(5000 + seed)
    k = rng.randint(2, 5)
    weights = [rng.uniform(0.05, 1) for _ in range(k)]
    total = sum(weights)
    weights = [w / total for w in weights]
    users = [max(0, int(rng.randint(100, 100_000) * w * rng.uniform(0.9, 1.1))) for w in weights]
    assert close(stats.srm_p_value(users, weights), check_srm(users, weights))


def test_degenerate_inputs_match_gbstats_defaults():
    zero_control = (ProportionStatistic(n=100, sum=0), ProportionStatistic(n=100, sum=5))
    ref = TwoSidedTTest(*zero_control).compute_result()
    mine = stats.frequentist(stats.proportion(100, 0), stats.proportion(100, 5), alpha=0.05)
    assert (mine["p_value"], mine["ci"], mine["uplift"]) == (ref.p_value, ref.ci, ref.expected)
    assert mine["error"] == ref.error_message
    bref = EffectBayesianABTest(*zero_control).compute_result()
    assert (
        stats.bayesian(stats.proportion(100, 0), stats.proportion(100, 5), alpha=0.05)["chance_to_win"]
        == bref.chance_to_win
    )
    empty_b = stats.frequentist(stats.proportion(100, 10), stats.proportion(0, 0), alpha=0.05)
    assert empty_b["error"] == stats.ZERO_VARIANCE and empty_b["p_value"] == 1.0
    assert stats.srm_p_value([0, 0], [0.5, 0.5]) == check_srm([0, 0], [0.5, 0.5]) == 1


def test_holm_correction():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5]) == [0.5]
    assert stats.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])
    assert stats.holm([0.01, 0.02]) == pytest.approx([0.02, 0.02])


def test_power_calculator_matches_the_textbook_formula():
    # 10 % baseline, +20 % relative, 95 % two-sided, 80 % power: ≈ 3,841 per arm (standard tables).
    n = stats.sample_size_per_variant(control_rate=0.10, mde=0.20, confidence=0.95)
    assert 3800 <= n <= 3900
    assert stats.sample_size_per_variant(control_rate=0.10, mde=0.20, confidence=0.80) < n
    assert stats.sample_size_per_variant(control_rate=0.0, mde=0.2, confidence=0.95) is None


def test_the_sample_ratio_rule():
    # An even split is no mismatch; a lopsided one is, but only once every variant has 100 participants.
    even = stats.sample_ratio_check([500, 510], [0.5, 0.5])
    assert (even.checked, even.mismatch) == (True, False)
    lopsided = stats.sample_ratio_check([600, 400], [0.5, 0.5])
    assert lopsided.p_value < stats.SRM_THRESHOLD and (lopsided.checked, lopsided.mismatch) == (True, True)
    assert close(lopsided.p_value, check_srm([600, 400], [0.5, 0.5]))
    small = stats.sample_ratio_check([99, 30], [0.5, 0.5])
    assert small.p_value < stats.SRM_THRESHOLD and (small.checked, small.mismatch) == (False, False)
    assert stats.sample_ratio_check([], []).as_dict() == {"p_value": 1.0, "checked": False, "mismatch": False}
    # The weights are the expectation: 600/400 is what a 60/40 split should give.
    assert stats.sample_ratio_check([600, 400], [0.6, 0.4]).mismatch is False
