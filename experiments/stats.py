"""Experiment statistics, numerically identical to GrowthBook's engine (``gbstats`` 0.8.0).

Inputs are sufficient statistics (counts, sums, sums of squares and of products) aggregated in
SQL; no Django here: numbers in, numbers out.

* Conversion rate: a proportion per variant (mean ``p``, variance ``p (1 - p)``).
* Revenue: mean ``conversion_value`` per participant (sample variance).
* Fixed horizon (``frequentist``): Welch's t-test on the relative uplift
  ``(mean_b - mean_a) / mean_a`` with the delta-method variance
  ``var_b / (mean_a² n_b) + var_a mean_b² / (mean_a⁴ n_a)``, Welch–Satterthwaite degrees of
  freedom, two-sided p-value and confidence interval (``gbstats`` ``TwoSidedTTest``). Valid
  for one look at a sample size fixed in advance.
* Sequential (``sequential``): always-valid p-value and confidence sequence for the same
  relative uplift (Waudby-Smith et al. 2023, eq. 9, 155 and 161; ``gbstats``
  ``SequentialTwoSidedTTest``), with the tuning parameter ``tuning`` (the expected total
  sample size: the interval is narrowest around it). Valid however often and whenever one
  looks.
* Bayesian: the same normal approximation with an improper prior: chance to beat the
  control ``P(uplift > 0)`` and risk (expected relative loss) of choosing either arm.
* Regression adjustment (CUPED, ``regression_adjustment``): the metric ``y`` is adjusted with
  covariates ``x`` measured before the first exposure, ``y − θᵀx``, one ``θ`` for both arms
  from their pooled covariance, ``θ = Σxx⁻¹ Σxy``. With one covariate this is ``gbstats``'
  ``RegressionAdjustedStatistic`` and ``compute_theta``; with several (the same metric before
  exposure, and the five Big Five domain percentiles of the participants who took the test
  before their exposure) it is the multivariate version of the same estimator. Each arm's
  variance is ``var(y) + θᵀ Σxx θ − 2 θᵀ Σxy`` (its own covariances, the pooled ``θ``), the
  relative uplift is divided by the *unadjusted* control mean, and the tests above run on the
  adjusted arms unchanged. ``θ`` is treated as known (its estimation error is of a lower
  order, ``O(1/n)``), as in ``gbstats``.
* Sample-ratio mismatch: chi-square goodness of fit against the configured weights, and the
  rule that turns it into a warning (``sample_ratio_check``: p below 0.001 once every variant
  has 100 participants) — the one SRM rule for results, reports and the dashboard.
* Holm's step-down correction when several variants are compared with the control;
  Benjamini–Hochberg's when many segments are.
* Power: participants per variant a two-sided two-proportion test needs to detect the
  minimum detectable (relative) effect at the confidence level with 80 % power.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, norm
from scipy.stats import t as student_t

BASELINE_ZERO = "ZERO_NEGATIVE_BASELINE_VARIATION"
ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"
NO_UNITS = "NO_UNITS_IN_VARIATION"

SRM_THRESHOLD = 0.001
SRM_MIN_PARTICIPANTS_PER_VARIANT = 100

SEQUENTIAL = "sequential"
FIXED_HORIZON = "fixed_horizon"
DEFAULT_SEQUENTIAL_TUNING = 5000

PROPORTION = "proportion"
MEAN = "mean"


@dataclass(frozen=True)
class Stat:
    """One arm: size, mean, variance — and, once adjusted, the mean before the adjustment."""

    n: int
    mean: float
    variance: float
    unadjusted: float | None = None

    @property
    def raw_mean(self) -> float:
        return self.mean if self.unadjusted is None else self.unadjusted


def proportion(n: int, successes: float) -> Stat:
    mean = successes / n if n else 0.0
    return Stat(n=n, mean=mean, variance=mean * (1 - mean))


def sample_mean(n: int, total: float, total_squares: float) -> Stat:
    mean = total / n if n else 0.0
    variance = (total_squares - total**2 / n) / (n - 1) if n > 1 else 0.0
    return Stat(n=n, mean=mean, variance=variance)


def _relative(a: Stat, b: Stat) -> tuple[float, float]:
    """Relative uplift of ``b`` over ``a`` and its delta-method variance (unadjusted means as the scale)."""
    base, other = a.raw_mean, b.raw_mean
    uplift = (b.mean - a.mean) / base
    variance = b.variance / (base**2 * b.n) + a.variance * other**2 / (base**4 * a.n)
    return uplift, variance


def _welch_dof(a: Stat, b: Stat) -> float:
    return (b.variance / b.n + a.variance / a.n) ** 2 / (
        b.variance**2 / (b.n**2 * (b.n - 1)) + a.variance**2 / (a.n**2 * (a.n - 1))
    )


def _refusal(a: Stat, b: Stat) -> str | None:
    if a.mean == 0 or a.raw_mean == 0:
        return BASELINE_ZERO
    if a.variance <= 0 or b.variance <= 0:
        return ZERO_VARIANCE
    return None


def _no_result(method: str, error: str) -> dict:
    return {"method": method, "uplift": 0.0, "ci": [0.0, 0.0], "p_value": 1.0, "se": 0.0, "error": error}


def frequentist(a: Stat, b: Stat, *, alpha: float) -> dict:
    """Fixed horizon: two-sided Welch t-test of the relative uplift of ``b`` over the control ``a``."""
    error = _refusal(a, b)
    if error:
        return _no_result(FIXED_HORIZON, error)
    uplift, variance = _relative(a, b)
    se = math.sqrt(variance)
    dof = _welch_dof(a, b)
    p_value = float(2 * (1 - student_t.cdf(abs(uplift / se), dof)))
    width = float(student_t.ppf(1 - alpha / 2, dof)) * se
    return {
        "method": FIXED_HORIZON,
        "uplift": uplift,
        "ci": [uplift - width, uplift + width],
        "p_value": p_value,
        "se": se,
        "error": None,
    }


def sequential_rho_squared(*, alpha: float, tuning: float) -> float:
    """ρ² of the confidence sequence (eq. 161): chosen so the interval is tightest at ``tuning`` units."""
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning


def sequential(a: Stat, b: Stat, *, alpha: float, tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> dict:
    """Sequential: always-valid p-value and confidence sequence of the relative uplift of ``b`` over ``a``.

    The interval is eq. 9 and the p-value eq. 155 of Waudby-Smith et al. (2023), with the
    asymptotic variance ``s² = N × var(uplift)``, ``N = n_a + n_b``. The p-value is
    ``min(1, 1/e)`` with the e-value ``e = exp(ρ² S² / (2 (Nρ² + 1))) / √(Nρ² + 1)``,
    computed in logarithms so a huge e-value gives 0 instead of overflowing.
    """
    error = _refusal(a, b)
    if error:
        return _no_result(SEQUENTIAL, error)
    uplift, variance = _relative(a, b)
    n = a.n + b.n
    rho2 = sequential_rho_squared(alpha=alpha, tuning=tuning)
    spread = n * rho2 + 1
    width = math.sqrt(variance * n) * math.sqrt(2 * spread * math.log(math.sqrt(spread) / alpha) / (n**2 * rho2))
    log_evalue = rho2 * (uplift**2 * n / variance) / (2 * spread) - 0.5 * math.log(spread)
    p_value = 1.0 if log_evalue <= 0 else math.exp(-log_evalue)
    return {
        "method": SEQUENTIAL,
        "uplift": uplift,
        "ci": [uplift - width, uplift + width],
        "p_value": p_value,
        "se": math.sqrt(variance),
        "error": None,
    }


def compare(a: Stat, b: Stat, *, alpha: float, method: str, tuning: float = DEFAULT_SEQUENTIAL_TUNING) -> dict:
    """The test of the method in force."""
    if method == SEQUENTIAL:
        return sequential(a, b, alpha=alpha, tuning=tuning)
    return frequentist(a, b, alpha=alpha)


def bayesian(a: Stat, b: Stat, *, alpha: float) -> dict:
    """Chance that ``b`` beats the control ``a`` and the risk of each choice (relative)."""
    default = {"chance_to_win": 0.5, "uplift": 0.0, "ci": [0.0, 0.0], "risk": [0.0, 0.0]}
    if a.mean == 0 or a.raw_mean == 0:
        return {**default, "error": BASELINE_ZERO}
    if a.n == 0 or b.n == 0:
        return {**default, "error": NO_UNITS}
    if a.variance <= 0 or b.variance <= 0:
        return {**default, "error": ZERO_VARIANCE}
    mu, variance = _relative(a, b)
    sigma = math.sqrt(variance)
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


# ------------------------------------------------------------------ regression adjustment


@dataclass(frozen=True)
class Moments:
    """Sufficient statistics of one arm for a metric and its covariates.

    Variables are ``v = (y, x_1 … x_p)``: ``sums[i] = Σ v_i`` and ``products[i][j] = Σ v_i v_j``
    over the arm's participants (a participant without a value counts as 0).
    """

    n: int
    sums: tuple[float, ...]
    products: tuple[tuple[float, ...], ...]

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            n=self.n + other.n,
            sums=tuple(x + y for x, y in zip(self.sums, other.sums, strict=True)),
            products=tuple(
                tuple(x + y for x, y in zip(row, other_row, strict=True))
                for row, other_row in zip(self.products, other.products, strict=True)
            ),
        )

    def select(self, keep: Sequence[int]) -> Moments:
        """The same arm restricted to some variables (indices into ``v``)."""
        return Moments(
            n=self.n,
            sums=tuple(self.sums[i] for i in keep),
            products=tuple(tuple(self.products[i][j] for j in keep) for i in keep),
        )


def moments_from_values(values: Sequence[Sequence[float]]) -> Moments:
    """``Moments`` of raw rows ``(y, x_1 … x_p)`` (tests and simulations)."""
    data = np.asarray(values, dtype=float)
    if data.ndim != 2:
        raise ValueError("rows of (y, x_1 … x_p)")
    return Moments(
        n=len(data),
        sums=tuple(float(v) for v in data.sum(axis=0)),
        products=tuple(tuple(float(v) for v in row) for row in data.T @ data),
    )


def _variance(m: Moments, i: int, kind: str) -> float:
    """Variance of variable ``i`` as ``gbstats`` computes it for its statistic type."""
    if kind == PROPORTION:
        mean = m.sums[i] / m.n if m.n else 0.0
        return mean * (1 - mean)
    if m.n <= 1:
        return 0.0
    return (m.products[i][i] - m.sums[i] ** 2 / m.n) / (m.n - 1)


def _covariance(m: Moments, i: int, j: int) -> float:
    if m.n <= 1:
        return 0.0
    return (m.products[i][j] - m.sums[i] * m.sums[j] / m.n) / (m.n - 1)


def covariance_matrix(m: Moments, kinds: Sequence[str]) -> np.ndarray:
    """Covariances of ``(y, x…)``: variances by statistic type on the diagonal, sample covariances elsewhere."""
    k = len(m.sums)
    out = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            out[i, j] = _variance(m, i, kinds[i]) if i == j else _covariance(m, i, j)
    return out


def unadjusted(m: Moments, kind: str) -> Stat:
    """The arm's metric alone (no covariates)."""
    if kind == PROPORTION:
        return proportion(m.n, m.sums[0])
    return sample_mean(m.n, m.sums[0], m.products[0][0])


@dataclass(frozen=True)
class Adjustment:
    """Both arms after regression adjustment (or unadjusted when no covariate varies)."""

    a: Stat
    b: Stat
    theta: dict[str, float]
    adjusted: bool
    covariates: tuple[str, ...]  # those that entered the adjustment


def _adjusted_arm(m: Moments, kinds: Sequence[str], theta: np.ndarray) -> Stat:
    y_mean = m.sums[0] / m.n if m.n else 0.0
    x_means = np.array([s / m.n if m.n else 0.0 for s in m.sums[1:]])
    if m.n <= 1:
        variance = 0.0
    else:
        cov = covariance_matrix(m, kinds)
        variance = float(cov[0, 0] + theta @ cov[1:, 1:] @ theta - 2 * theta @ cov[1:, 0])
    return Stat(n=m.n, mean=float(y_mean - theta @ x_means), variance=variance, unadjusted=y_mean)


def regression_adjustment(a: Moments, b: Moments, *, kinds: Sequence[str], names: Sequence[str]) -> Adjustment:
    """CUPED with one or several pre-exposure covariates, ``θ`` from the two arms' pooled covariance.

    ``kinds[0]`` is the metric's statistic type, ``kinds[1:]`` the covariates'; ``names`` name the
    covariates. Covariates that do not vary in the pooled sample are left out; when none is
    left (or the metric does not vary), the arms are returned unadjusted — ``gbstats``
    reverts to the unadjusted test in the same case (``θ = 0``).
    """
    joint = a + b
    joint_cov = covariance_matrix(joint, kinds)
    keep = [i for i in range(1, len(kinds)) if joint_cov[i, i] != 0]
    plain = Adjustment(
        a=unadjusted(a, kinds[0]),
        b=unadjusted(b, kinds[0]),
        theta=dict.fromkeys(names, 0.0),
        adjusted=False,
        covariates=(),
    )
    if joint_cov[0, 0] == 0 or not keep:
        return plain
    sxx = joint_cov[np.ix_(keep, keep)]
    sxy = joint_cov[keep, 0]
    # One covariate: gbstats' cov / var exactly; several: least squares (also when they are collinear).
    theta = np.array([sxy[0] / sxx[0, 0]]) if len(keep) == 1 else np.linalg.lstsq(sxx, sxy, rcond=None)[0]
    if not np.any(theta):
        return plain
    chosen = [0, *keep]
    sub_kinds = [kinds[i] for i in chosen]
    values = dict.fromkeys(names, 0.0)
    for index, coefficient in zip(keep, theta, strict=True):
        values[names[index - 1]] = float(coefficient)
    return Adjustment(
        a=_adjusted_arm(a.select(chosen), sub_kinds, theta),
        b=_adjusted_arm(b.select(chosen), sub_kinds, theta),
        theta=values,
        adjusted=True,
        covariates=tuple(names[i - 1] for i in keep),
    )


def variance_reduction(adjusted: dict, plain: dict) -> dict[str, float] | None:
    """How much the adjustment tightened the estimate: ``1 − var_adj / var`` and ``1 − width_adj / width``."""
    if adjusted.get("error") or plain.get("error") or not plain["se"]:
        return None
    plain_width = plain["ci"][1] - plain["ci"][0]
    adjusted_width = adjusted["ci"][1] - adjusted["ci"][0]
    return {
        "variance_reduction": 1 - (adjusted["se"] / plain["se"]) ** 2,
        "interval_narrower": 1 - adjusted_width / plain_width if plain_width else 0.0,
    }


# -------------------------------------------------------------------- sample-ratio check


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


# ---------------------------------------------------------------- multiple comparisons


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


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q-values: the false discovery rate at which each is a finding)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for position, i in enumerate(order):
        rank = m - position
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(running, 1.0)
    return adjusted


# ------------------------------------------------------------------------------ power


def sample_size_per_variant(*, control_rate: float, mde: float, confidence: float, power: float = 0.8) -> int | None:
    """Participants per variant to detect a relative change ``mde`` of ``control_rate``."""
    p1 = control_rate
    p2 = control_rate * (1 + mde)
    if not 0 < p1 < 1 or not 0 < p2 < 1 or mde == 0:
        return None
    z = norm.ppf(1 - (1 - confidence) / 2) + norm.ppf(power)
    return math.ceil(z**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p2 - p1) ** 2)
