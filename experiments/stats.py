"""Experiment statistics, numerically identical to GrowthBook's engine (``gbstats`` 0.8.0).

Inputs are sufficient statistics (counts, sums, sums of squares) aggregated in SQL.

* Conversion rate: a proportion per variant (mean ``p``, variance ``p (1 - p)``).
* Revenue: mean ``conversion_value`` per participant (sample variance).
* Frequentist: Welch's t-test on the relative uplift ``(mean_b - mean_a) / mean_a`` with
  the delta-method variance ``var_b / (mean_a² n_b) + var_a mean_b² / (mean_a⁴ n_a)``,
  Welch–Satterthwaite degrees of freedom, two-sided p-value and confidence interval.
* Bayesian: the same normal approximation with an improper prior: chance to beat the
  control ``P(uplift > 0)`` and risk (expected relative loss) of choosing either arm.
* Sample-ratio mismatch: chi-square goodness of fit against the configured weights, and the
  rule that turns it into a warning (``sample_ratio_check``: p below 0.001 once every variant
  has 100 participants) — the one SRM rule for results, reports and the dashboard.
* Holm's step-down correction when several variants are compared with the control.
* Power: participants per variant a two-sided two-proportion test needs to detect the
  minimum detectable (relative) effect at the confidence level with 80 % power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import chi2, norm
from scipy.stats import t as student_t

BASELINE_ZERO = "ZERO_NEGATIVE_BASELINE_VARIATION"
ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"
NO_UNITS = "NO_UNITS_IN_VARIATION"

SRM_THRESHOLD = 0.001
SRM_MIN_PARTICIPANTS_PER_VARIANT = 100


@dataclass(frozen=True)
class Stat:
    n: int
    mean: float
    variance: float


def proportion(n: int, successes: float) -> Stat:
    mean = successes / n if n else 0.0
    return Stat(n=n, mean=mean, variance=mean * (1 - mean))


def sample_mean(n: int, total: float, total_squares: float) -> Stat:
    mean = total / n if n else 0.0
    variance = (total_squares - total**2 / n) / (n - 1) if n > 1 else 0.0
    return Stat(n=n, mean=mean, variance=variance)


def _relative_variance(a: Stat, b: Stat) -> float:
    return b.variance / (a.mean**2 * b.n) + a.variance * b.mean**2 / (a.mean**4 * a.n)


def _welch_dof(a: Stat, b: Stat) -> float:
    return (b.variance / b.n + a.variance / a.n) ** 2 / (
        b.variance**2 / (b.n**2 * (b.n - 1)) + a.variance**2 / (a.n**2 * (a.n - 1))
    )


def frequentist(a: Stat, b: Stat, *, alpha: float) -> dict:
    """Two-sided Welch t-test of the relative uplift of ``b`` over the control ``a``."""
    if a.mean == 0:
        return {"uplift": 0.0, "ci": [0.0, 0.0], "p_value": 1.0, "error": BASELINE_ZERO}
    if a.variance <= 0 or b.variance <= 0:
        return {"uplift": 0.0, "ci": [0.0, 0.0], "p_value": 1.0, "error": ZERO_VARIANCE}
    uplift = (b.mean - a.mean) / a.mean
    se = math.sqrt(_relative_variance(a, b))
    dof = _welch_dof(a, b)
    p_value = float(2 * (1 - student_t.cdf(abs(uplift / se), dof)))
    width = float(student_t.ppf(1 - alpha / 2, dof)) * se
    return {"uplift": uplift, "ci": [uplift - width, uplift + width], "p_value": p_value, "error": None}


def bayesian(a: Stat, b: Stat, *, alpha: float) -> dict:
    """Chance that ``b`` beats the control ``a`` and the risk of each choice (relative)."""
    default = {"chance_to_win": 0.5, "uplift": 0.0, "ci": [0.0, 0.0], "risk": [0.0, 0.0]}
    if a.mean == 0:
        return {**default, "error": BASELINE_ZERO}
    if a.n == 0 or b.n == 0:
        return {**default, "error": NO_UNITS}
    if a.variance <= 0 or b.variance <= 0:
        return {**default, "error": ZERO_VARIANCE}
    mu = (b.mean - a.mean) / a.mean
    sigma = math.sqrt(_relative_variance(a, b))
    chance = float(norm.sf(0, mu, sigma))
    lo, hi = norm.ppf([alpha / 2, 1 - alpha / 2], mu, sigma)
    # Expected loss: E[max(uplift, 0)] if the control is kept, E[max(-uplift, 0)] if b is chosen.
    z = mu / sigma
    risk_control = float(mu * norm.cdf(z) + sigma * norm.pdf(z))
    risk_treatment = float(sigma * norm.pdf(z) - mu * norm.cdf(-z))
    return {
        "chance_to_win": chance,
        "uplift": mu,
        "ci": [float(lo), float(hi)],
        "risk": [risk_control, risk_treatment],
        "error": None,
    }


def srm_p_value(users: Sequence[int], weights: Sequence[float]) -> float:
    """Chi-square p-value of the observed split against the configured weights."""
    total = sum(users)
    if not total:
        return 1.0
    total_weight = sum(weights)
    x = 0.0
    for observed, weight in zip(users, weights, strict=True):
        if weight <= 0:
            continue
        expected = weight / total_weight * total
        x += (observed - expected) ** 2 / expected
    return float(chi2.sf(x, len(users) - 1))


@dataclass(frozen=True)
class SampleRatio:
    """The sample-ratio check of one experiment."""

    p_value: float
    checked: bool  # every variant has enough participants for the test to mean something
    mismatch: bool  # checked, and the split is too unlikely under the configured weights

    def as_dict(self) -> dict:
        return {"p_value": self.p_value, "checked": self.checked, "mismatch": self.mismatch}


def sample_ratio_check(participants: Sequence[int], weights: Sequence[float]) -> SampleRatio:
    """The sample-ratio-mismatch rule: chi-square p-value of the split against the weights,
    a mismatch when it is below ``SRM_THRESHOLD`` once every variant has
    ``SRM_MIN_PARTICIPANTS_PER_VARIANT`` participants."""
    if not participants:
        return SampleRatio(p_value=1.0, checked=False, mismatch=False)
    p_value = srm_p_value(participants, weights)
    checked = min(participants) >= SRM_MIN_PARTICIPANTS_PER_VARIANT
    return SampleRatio(p_value=p_value, checked=checked, mismatch=checked and p_value < SRM_THRESHOLD)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def sample_size_per_variant(*, control_rate: float, mde: float, confidence: float, power: float = 0.8) -> int | None:
    """Participants per variant to detect a relative change ``mde`` of ``control_rate``."""
    p1 = control_rate
    p2 = control_rate * (1 + mde)
    if not 0 < p1 < 1 or not 0 < p2 < 1 or mde == 0:
        return None
    z = norm.ppf(1 - (1 - confidence) / 2) + norm.ppf(power)
    return math.ceil(z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2)
