"""The A/A simulation: its vectorised tests are ``experiments.stats``' own, and its figures say what the
methods promise (a peeked fixed-horizon test calls far more than 5 % of A/A tests significant; the
sequential test no more than 5 %)."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from experiments import simulation, stats


@pytest.mark.parametrize("seed", range(5))
def test_the_vectorised_p_values_are_the_stats_functions(seed):
    rng = np.random.default_rng(seed)
    n_a, n_b = rng.integers(2, 20_000, 200), rng.integers(2, 20_000, 200)
    x_a = rng.binomial(n_a, rng.uniform(0, 0.5, 200))
    x_b = rng.binomial(n_b, rng.uniform(0, 0.5, 200))
    x_a[:3] = 0  # the control converting nobody: no result, p = 1
    x_b[3] = n_b[3]  # the challenger converting everybody: no result either
    fixed = simulation.fixed_p_values(n_a, x_a, n_b, x_b)
    sequential = simulation.sequential_p_values(n_a, x_a, n_b, x_b, alpha=0.05, tuning=5000)
    for i in range(200):
        a, b = stats.proportion(int(n_a[i]), int(x_a[i])), stats.proportion(int(n_b[i]), int(x_b[i]))
        assert fixed[i] == pytest.approx(stats.frequentist(a, b, alpha=0.05)["p_value"], abs=1e-12)
        assert sequential[i] == pytest.approx(stats.sequential(a, b, alpha=0.05, tuning=5000)["p_value"], abs=1e-12)


def test_peeking_inflates_a_fixed_horizon_test_and_not_the_sequential_one():
    settings = simulation.Settings(experiments=1000, cuped_experiments=30, seed=7)
    figures = simulation.run(settings)
    fp = figures["false_positives"]
    assert fp["fixed_horizon_peeked_daily"] > 0.15  # typically 25–30 %
    assert fp["fixed_horizon_one_look"] < 0.075  # the nominal 5 %, read once
    assert fp["sequential_peeked_daily"] <= 0.05
    cuped = figures["cuped"]
    assert 0 < cuped["variance_reduction_pre_exposure"] < cuped["variance_reduction_pre_exposure_and_personality"] < 1
    assert cuped["sequential_peeked_daily"] <= 0.1  # 30 experiments: a coarse check


def test_the_command_prints_the_figures():
    out = StringIO()
    call_command("experiment_aa_simulation", "--experiments", "200", "--cuped-experiments", "5", stdout=out)
    text = out.getvalue()
    assert "fixed horizon, peeked daily" in text and "sequential, peeked daily" in text and "(goal ≤ 5 %)" in text
    out = StringIO()
    call_command("experiment_aa_simulation", "--experiments", "200", "--cuped-experiments", "5", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["settings"]["experiments"] == 200 and "interval_narrower" in figures["cuped"]
