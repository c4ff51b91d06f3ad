"""A/A simulations: how often each method calls "significant" a difference that does not exist.

Marketing opens the results every day. This module simulates that: thousands of A/A experiments
(both arms identical), looked at once a day for 30 days, and counts the experiments that were
called significant at any look:

* **fixed horizon, peeked daily** — the Welch t-test read every day: far above the nominal 5 %;
* **fixed horizon, one look** — the same test read once, at the planned end: about 5 %;
* **sequential** — the always-valid test read every day: at most 5 %.

Then regression adjustment (CUPED) on a simulated revenue-like metric whose pre-exposure value is
correlated with it, for participants of whom some took the Big Five test before their exposure and
whose traits also move the metric: the variance reduction and interval narrowing of the adjustment
(pre-period alone; pre-period and personality), and the sequential A/A false-positive rate with
the adjustment on.

The daily p-values of the first part are computed with numpy, vectorised over experiments and days
(``fixed_p_values``, ``sequential_p_values``: the formulas of ``experiments.stats``, checked equal to
them in the tests); the regression adjustment uses ``experiments.stats`` itself. No Django here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.stats import t as student_t

from experiments import stats

COVARIATES = ("pre_exposure", "took_big_five", "trait_N", "trait_E", "trait_O", "trait_A", "trait_C")


@dataclass(frozen=True)
class Settings:
    experiments: int = 2000
    days: int = 30
    daily_per_arm: int = 200  # mean visitors per arm and day (Poisson)
    rate: float = 0.10  # conversion rate of both arms
    alpha: float = 0.05
    tuning: int = stats.DEFAULT_SEQUENTIAL_TUNING
    cuped_experiments: int = 400
    cuped_daily_per_arm: int = 100
    seed: int = 20_260_101


# ------------------------------------------------------------------ vectorised tests


def _relative(n_a, x_a, n_b, x_b):
    mean_a, mean_b = x_a / n_a, x_b / n_b
    var_a, var_b = mean_a * (1 - mean_a), mean_b * (1 - mean_b)
    valid = (mean_a > 0) & (var_a > 0) & (var_b > 0)
    safe_a = np.where(valid, mean_a, 1.0)
    uplift = (mean_b - mean_a) / safe_a
    variance = var_b / (safe_a**2 * n_b) + var_a * mean_b**2 / (safe_a**4 * n_a)
    return uplift, np.where(valid, variance, 1.0), var_a, var_b, valid


def fixed_p_values(n_a, x_a, n_b, x_b) -> np.ndarray:
    """``stats.frequentist(proportion(n_a, x_a), proportion(n_b, x_b))["p_value"]``, element-wise."""
    n_a, x_a, n_b, x_b = (np.asarray(v, dtype=float) for v in (n_a, x_a, n_b, x_b))
    uplift, variance, var_a, var_b, valid = _relative(n_a, x_a, n_b, x_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (var_b / n_b + var_a / n_a) ** 2 / (var_b**2 / (n_b**2 * (n_b - 1)) + var_a**2 / (n_a**2 * (n_a - 1)))
        p = 2 * (1 - student_t.cdf(np.abs(uplift / np.sqrt(variance)), np.where(valid, dof, 1.0)))
    return np.where(valid, p, 1.0)


def sequential_p_values(n_a, x_a, n_b, x_b, *, alpha: float, tuning: float) -> np.ndarray:
    """``stats.sequential(proportion(n_a, x_a), proportion(n_b, x_b))["p_value"]``, element-wise."""
    n_a, x_a, n_b, x_b = (np.asarray(v, dtype=float) for v in (n_a, x_a, n_b, x_b))
    uplift, variance, _, _, valid = _relative(n_a, x_a, n_b, x_b)
    n = n_a + n_b
    rho2 = stats.sequential_rho_squared(alpha=alpha, tuning=tuning)
    spread = n * rho2 + 1
    log_evalue = rho2 * (uplift**2 * n / variance) / (2 * spread) - 0.5 * np.log(spread)
    p = np.where(log_evalue <= 0, 1.0, np.exp(-np.maximum(log_evalue, 0)))
    return np.where(valid, p, 1.0)


# ------------------------------------------------------------------------ false positives


def false_positive_rates(settings: Settings, rng: np.random.Generator) -> dict:
    shape = (settings.experiments, settings.days)
    visitors = rng.poisson(settings.daily_per_arm, size=(2, *shape))
    conversions = rng.binomial(visitors, settings.rate)
    n_a, n_b = np.cumsum(visitors, axis=2)
    x_a, x_b = np.cumsum(conversions, axis=2)
    fixed = fixed_p_values(n_a, x_a, n_b, x_b)
    sequential = sequential_p_values(n_a, x_a, n_b, x_b, alpha=settings.alpha, tuning=settings.tuning)
    peeked = (fixed < settings.alpha).any(axis=1)
    final = fixed[:, -1] < settings.alpha
    always_valid = (sequential < settings.alpha).any(axis=1)
    first_day = np.argmax(fixed < settings.alpha, axis=1)[peeked] + 1
    return {
        "fixed_horizon_peeked_daily": float(peeked.mean()),
        "fixed_horizon_one_look": float(final.mean()),
        "sequential_peeked_daily": float(always_valid.mean()),
        "fixed_horizon_median_first_false_day": float(np.median(first_day)) if first_day.size else None,
        "participants_per_experiment": float((n_a[:, -1] + n_b[:, -1]).mean()),
    }


# ----------------------------------------------------------------------------- CUPED


def _participants(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Rows ``(y, pre, took, N, E, O, A, C)``: revenue-like after exposure, the same before, Big Five traits."""
    active = rng.random(shape) < 0.5
    pre = np.where(active, rng.gamma(2.0, 15.0, shape), 0.0)
    took = (rng.random(shape) < 0.6).astype(float)
    traits = (rng.integers(1, 100, (*shape, 5)) - 50) / 100 * took[..., None]
    level = 6 + 0.6 * pre + 40 * traits[..., 1] - 30 * traits[..., 4] + 20 * traits[..., 2]
    y = np.maximum(0.0, level + rng.normal(0, 12, shape))
    return np.concatenate([y[..., None], pre[..., None], took[..., None], traits], axis=-1)


def _daily_moments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative per day: counts, sums (…, 8) and cross products (…, 8, 8) of rows shaped (…, days, m, 8)."""
    sums = np.cumsum(rows.sum(axis=-2), axis=-2)
    products = np.cumsum(np.einsum("...mi,...mj->...ij", rows, rows), axis=-3)
    counts = np.cumsum(np.full(rows.shape[:-2], rows.shape[-2]), axis=-1)
    return counts, sums, products


def _moments(n, sums, products, keep) -> stats.Moments:
    return stats.Moments(
        n=int(n),
        sums=tuple(float(sums[i]) for i in keep),
        products=tuple(tuple(float(products[i, j]) for j in keep) for i in keep),
    )


def cuped(settings: Settings, rng: np.random.Generator) -> dict:
    kinds = [stats.MEAN] * 8
    full, pre_only = list(range(8)), [0, 1]
    reductions = {"pre_exposure": [], "pre_exposure_and_personality": []}
    narrower, estimates, plain_estimates, correlations = [], [], [], []
    sequential_hits, fixed_hits = 0, 0
    chunk = 25
    for start in range(0, settings.cuped_experiments, chunk):
        size = min(chunk, settings.cuped_experiments - start)
        rows = _participants(rng, (size, 2, settings.days, settings.cuped_daily_per_arm))
        counts, sums, products = _daily_moments(rows)
        for e in range(size):
            y, x = rows[e, ..., 0].ravel(), rows[e, ..., 1].ravel()
            correlations.append(np.corrcoef(y, x)[0, 1])
            called, called_fixed = False, False
            for day in range(settings.days):
                a = _moments(counts[e, 0, day], sums[e, 0, day], products[e, 0, day], full)
                b = _moments(counts[e, 1, day], sums[e, 1, day], products[e, 1, day], full)
                adjustment = stats.regression_adjustment(a, b, kinds=kinds, names=COVARIATES)
                seq = stats.sequential(adjustment.a, adjustment.b, alpha=settings.alpha, tuning=settings.tuning)
                called = called or seq["p_value"] < settings.alpha
                fixed = stats.frequentist(adjustment.a, adjustment.b, alpha=settings.alpha)
                called_fixed = called_fixed or fixed["p_value"] < settings.alpha
            sequential_hits += called
            fixed_hits += called_fixed
            # At the end: how much the adjustment narrowed the interval, and the A/A estimates' spread.
            plain = stats.frequentist(
                stats.unadjusted(a, stats.MEAN), stats.unadjusted(b, stats.MEAN), alpha=settings.alpha
            )
            adjusted = stats.frequentist(adjustment.a, adjustment.b, alpha=settings.alpha)
            gain = stats.variance_reduction(adjusted, plain)
            reductions["pre_exposure_and_personality"].append(gain["variance_reduction"])
            narrower.append(gain["interval_narrower"])
            last = day
            a1 = _moments(counts[e, 0, last], sums[e, 0, last], products[e, 0, last], pre_only)
            b1 = _moments(counts[e, 1, last], sums[e, 1, last], products[e, 1, last], pre_only)
            only = stats.regression_adjustment(a1, b1, kinds=kinds[:2], names=COVARIATES[:1])
            reductions["pre_exposure"].append(
                stats.variance_reduction(stats.frequentist(only.a, only.b, alpha=settings.alpha), plain)[
                    "variance_reduction"
                ]
            )
            estimates.append(adjusted["uplift"])
            plain_estimates.append(plain["uplift"])
    empirical = 1 - float(np.var(estimates) / np.var(plain_estimates))
    return {
        "experiments": settings.cuped_experiments,
        "participants_per_experiment": 2 * settings.days * settings.cuped_daily_per_arm,
        "took_big_five_before_exposure": 0.6,
        "correlation_with_pre_period": float(np.mean(correlations)),
        "variance_reduction_pre_exposure": float(np.mean(reductions["pre_exposure"])),
        "variance_reduction_pre_exposure_and_personality": float(np.mean(reductions["pre_exposure_and_personality"])),
        "interval_narrower": float(np.mean(narrower)),
        "empirical_variance_reduction": empirical,
        "sequential_peeked_daily": sequential_hits / settings.cuped_experiments,
        "fixed_horizon_peeked_daily": fixed_hits / settings.cuped_experiments,
    }


def run(settings: Settings | None = None) -> dict:
    """Both simulations with their settings and the time they took."""
    settings = settings or Settings()
    rng = np.random.default_rng(settings.seed)
    started = time.perf_counter()
    rates = false_positive_rates(settings, rng)
    middle = time.perf_counter()
    adjustment = cuped(settings, rng)
    return {
        "settings": settings.__dict__,
        "false_positives": rates,
        "cuped": adjustment,
        "seconds": {"false_positives": middle - started, "cuped": time.perf_counter() - middle},
    }
