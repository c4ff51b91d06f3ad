"""Sequential testing agrees with gbstats 0.8.0's ``SequentialTwoSidedTTest`` to 1e-6 (500 random inputs each)."""

import math
import random

import pytest
from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic

from experiments import stats

TOL = 1e-6

# gbstats computes the e-value with np.exp, which overflows (to a p-value of 0) on overwhelming differences.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")


def close(a, b):
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def assert_matches(mine, ref):
    assert close(mine["uplift"], ref.expected)
    assert close(mine["p_value"], ref.p_value)
    assert close(mine["ci"][0], ref.ci[0]) and close(mine["ci"][1], ref.ci[1])
    assert mine["error"] == ref.error_message
    assert mine["method"] == stats.SEQUENTIAL


def config(rng):
    return rng.choice([0.01, 0.05, 0.1, 0.2]), rng.choice([100, 1000, 5000, 5000, 20_000, 250_000])


@pytest.mark.parametrize("seed", range(500))
def test_sequential_proportions_match_gbstats(seed):
    rng = random.Random(20_000 + seed)
    n_a, n_b = rng.randint(20, 200_000), rng.randint(20, 200_000)
    rate = rng.uniform(0.005, 0.6)
    x_a = max(1, min(n_a - 1, int(n_a * rate * rng.uniform(0.7, 1.3))))
    x_b = max(1, min(n_b - 1, int(n_b * rate * rng.uniform(0.7, 1.3))))
    alpha, tuning = config(rng)
    ref = SequentialTwoSidedTTest(
        ProportionStatistic(n=n_a, sum=x_a),
        ProportionStatistic(n=n_b, sum=x_b),
        SequentialConfig(alpha=alpha, sequential_tuning_parameter=tuning),
    ).compute_result()
    mine = stats.sequential(stats.proportion(n_a, x_a), stats.proportion(n_b, x_b), alpha=alpha, tuning=tuning)
    assert_matches(mine, ref)


@pytest.mark.parametrize("seed", range(500))
def test_sequential_means_match_gbstats(seed):
    rng = random.Random(30_000 + seed)
    arms = []
    for _ in range(2):
        n = rng.randint(5, 50_000)
        values = [rng.expovariate(1 / 40) if rng.random() < 0.2 else 0.0 for _ in range(min(n, 300))]
        scale = n / len(values)
        arms.append((n, sum(values) * scale, sum(v * v for v in values) * scale))
    (n_a, s_a, ss_a), (n_b, s_b, ss_b) = arms
    if s_a == 0:
        s_a, ss_a = 10.0, 100.0
    alpha, tuning = config(rng)
    ref = SequentialTwoSidedTTest(
        SampleMeanStatistic(n=n_a, sum=s_a, sum_squares=ss_a),
        SampleMeanStatistic(n=n_b, sum=s_b, sum_squares=ss_b),
        SequentialConfig(alpha=alpha, sequential_tuning_parameter=tuning),
    ).compute_result()
    mine = stats.sequential(
        stats.sample_mean(n_a, s_a, ss_a), stats.sample_mean(n_b, s_b, ss_b), alpha=alpha, tuning=tuning
    )
    assert_matches(mine, ref)


def test_sequential_degenerate_inputs_match_gbstats():
    cases = [
        (ProportionStatistic(n=100, sum=0), ProportionStatistic(n=100, sum=5)),  # control converts nobody
        (ProportionStatistic(n=100, sum=10), ProportionStatistic(n=0, sum=0)),  # nobody in the variant
        (ProportionStatistic(n=100, sum=100), ProportionStatistic(n=100, sum=50)),  # control all converted
    ]
    for a, b in cases:
        ref = SequentialTwoSidedTTest(a, b).compute_result()
        mine = stats.sequential(stats.proportion(a.n, a.sum), stats.proportion(b.n, b.sum), alpha=0.05)
        assert (mine["uplift"], mine["ci"], mine["p_value"], mine["error"]) == (
            ref.expected,
            ref.ci,
            ref.p_value,
            ref.error_message,
        )


def test_an_overwhelming_difference_gives_p_zero_without_overflow():
    a, b = stats.proportion(5_000_000, 500_000), stats.proportion(5_000_000, 1_500_000)
    ref = SequentialTwoSidedTTest(ProportionStatistic(n=a.n, sum=500_000), ProportionStatistic(n=b.n, sum=1_500_000))
    assert stats.sequential(a, b, alpha=0.05)["p_value"] == 0.0 == ref.compute_result().p_value


def test_the_sequential_interval_is_wider_than_the_fixed_horizon_one_and_always_contains_it():
    a, b = stats.proportion(4000, 400), stats.proportion(4000, 460)
    fixed = stats.frequentist(a, b, alpha=0.05)
    seq = stats.sequential(a, b, alpha=0.05)
    assert seq["ci"][0] < fixed["ci"][0] and seq["ci"][1] > fixed["ci"][1]
    assert seq["p_value"] > fixed["p_value"]
    assert stats.compare(a, b, alpha=0.05, method=stats.SEQUENTIAL) == seq
    assert stats.compare(a, b, alpha=0.05, method=stats.FIXED_HORIZON) == fixed
