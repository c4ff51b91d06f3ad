"""Johnson's published IPIP-NEO-120 norms and his percentile approximation, as data.

Source: John A. Johnson's scoring program for the 120-item IPIP-NEO,
``shortipipneo3.cgi`` (Perl), as mirrored in the public repository
kholia/IPIP-NEO-PI (``app/shortipipneo3.cgi``); the same numbers are reproduced by the
five-factor-e library (NeuroQuestAi, ``ipipneo/norm.py``). The norms are those of the
Internet sample of Johnson (2014), "Measuring thirty facets of the Five Factor Model
with a 120-item public domain inventory: Development of the IPIP-NEO-120", Journal of
Research in Personality 51, 78–89, given by sex and by age band (under 21, 21–40,
41–60, over 60).

``_JOHNSON_NORMS`` copies the program's ``@norm`` arrays value for value, in the
program's own order (its leading 0 placeholder dropped), so that the table can be
checked against the source by eye:

    [0:5]    domain means      N, E, O, A, C
    [5:10]   domain SDs        N, E, O, A, C
    [10:16]  N1–N6 facet means, [16:22] N1–N6 facet SDs
    [22:28]  E1–E6 means,       [28:34] E1–E6 SDs
    [34:40]  O1–O6 means,       [40:46] O1–O6 SDs
    [46:52]  A1–A6 means,       [52:58] A1–A6 SDs
    [58:64]  C1–C6 means,       [64:70] C1–C6 SDs

Derived groups (not published by Johnson, and labelled as such on every report):
the issue asks for a combined norm when sex is not given. Johnson's program refuses to
score without sex and age and publishes no sex-combined table, and the program does not
carry group sizes, so a combined group is computed here as the equal-weight mixture of
the published groups it spans: mean = average of the group means; SD = sqrt(average of
the group variances + variance of the group means). With sex unknown the mixture spans
the two sexes of the person's age band; with age unknown, the four age bands of the
person's sex; with both unknown, all eight groups.

Percentiles: Johnson's cubic approximation of the normal curve, applied to the T-score
(``int(210.335958661391 - 16.7379362643389·T + 0.405936512733332·T² −
0.00270624341822222·T³)``). Outside its useful range the percentile is pinned: 1 below
T 32 and 99 above T 73 (the rule of the issue and of later ports of Johnson's program;
his 2011 CGI pins at T < 27, where the cubic's truncated value dips to 0 between T 28
and 31 — pinning at 32 avoids that dip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engagement.bigfive.inventory import DOMAINS

NORMS_SOURCE = "Johnson (2014) IPIP-NEO-120 norms by sex and age, from Johnson's scoring program shortipipneo3.cgi"

# (sex, age band) -> the program's @norm array without its leading 0.
_JOHNSON_NORMS: dict[tuple[str, str], tuple[float, ...]] = {
    ("M", "under_21"): (
        67.84,
        80.70,
        85.98,
        81.98,
        79.66,
        15.83,
        15.37,
        12.37,
        14.66,
        14.49,
        11.72,
        11.93,
        10.58,
        12.38,
        11.67,
        9.63,
        3.76,
        4.41,
        4.25,
        3.83,
        3.25,
        3.38,
        13.76,
        12.23,
        14.06,
        11.54,
        14.67,
        14.41,
        3.78,
        4.17,
        3.66,
        3.15,
        3.38,
        3.68,
        16.68,
        14.51,
        14.52,
        12.84,
        15.47,
        11.86,
        2.96,
        3.87,
        3.31,
        3.16,
        3.50,
        3.17,
        13.18,
        14.85,
        15.37,
        12.73,
        12.01,
        13.96,
        3.69,
        3.44,
        3.10,
        4.05,
        3.94,
        3.35,
        15.31,
        10.97,
        15.22,
        13.61,
        12.35,
        12.08,
        2.55,
        3.93,
        2.92,
        3.65,
        3.24,
        4.02,
    ),  # "males less than 21 years of age"
    ("M", "21_40"): (
        66.97,
        78.90,
        86.51,
        84.22,
        85.50,
        16.48,
        15.21,
        12.65,
        13.10,
        14.27,
        11.44,
        11.75,
        10.37,
        12.11,
        12.18,
        9.13,
        3.76,
        4.30,
        4.12,
        3.81,
        3.52,
        3.48,
        13.31,
        11.34,
        14.58,
        12.07,
        13.34,
        14.30,
        3.80,
        3.99,
        3.58,
        3.23,
        3.43,
        3.53,
        15.94,
        14.94,
        14.60,
        13.14,
        16.11,
        11.66,
        3.18,
        3.63,
        3.19,
        3.39,
        3.25,
        3.72,
        12.81,
        15.93,
        15.37,
        14.58,
        11.43,
        13.77,
        3.69,
        3.18,
        2.92,
        3.70,
        3.57,
        3.29,
        15.80,
        12.05,
        15.68,
        15.36,
        13.27,
        13.31,
        2.44,
        4.26,
        2.76,
        3.39,
        3.31,
        4.03,
    ),  # "men between 21 and 40 years of age"
    ("M", "41_60"): (
        64.11,
        77.06,
        83.04,
        88.33,
        91.27,
        16.04,
        14.31,
        13.05,
        11.76,
        13.35,
        10.79,
        11.60,
        9.78,
        11.85,
        11.24,
        8.81,
        3.56,
        4.16,
        3.94,
        3.62,
        3.55,
        3.35,
        13.22,
        10.45,
        14.95,
        12.27,
        11.82,
        14.32,
        3.71,
        3.68,
        3.44,
        3.30,
        3.23,
        3.29,
        14.65,
        14.66,
        14.76,
        12.69,
        15.40,
        11.04,
        3.35,
        3.59,
        3.02,
        3.44,
        3.43,
        3.93,
        13.42,
        16.94,
        15.65,
        15.66,
        11.96,
        14.21,
        3.49,
        2.83,
        2.88,
        3.33,
        3.34,
        3.17,
        16.19,
        13.33,
        16.56,
        16.51,
        14.05,
        14.60,
        2.25,
        4.32,
        2.50,
        2.93,
        3.13,
        3.78,
    ),  # "men between 41 and 60 years of age"
    ("M", "over_60"): (
        58.42,
        79.73,
        79.78,
        90.20,
        95.31,
        15.48,
        13.63,
        12.21,
        11.73,
        11.99,
        9.81,
        11.46,
        8.18,
        11.08,
        9.91,
        8.24,
        3.54,
        4.31,
        3.59,
        3.82,
        3.36,
        3.28,
        14.55,
        11.19,
        15.29,
        12.81,
        11.03,
        15.02,
        3.47,
        3.58,
        3.10,
        3.25,
        2.88,
        3.16,
        14.06,
        14.22,
        14.34,
        12.42,
        14.61,
        10.11,
        3.13,
        3.64,
        2.90,
        3.20,
        3.89,
        4.02,
        13.96,
        17.74,
        15.76,
        16.18,
        11.87,
        14.00,
        3.13,
        2.39,
        2.74,
        3.41,
        3.50,
        3.11,
        16.32,
        14.41,
        17.54,
        16.65,
        14.98,
        15.18,
        2.31,
        4.49,
        2.30,
        2.68,
        2.76,
        3.61,
    ),  # "men over 60 years of age"
    ("F", "under_21"): (
        73.41,
        84.26,
        89.01,
        89.14,
        81.27,
        15.61,
        14.98,
        11.84,
        13.21,
        14.38,
        13.31,
        13.09,
        11.05,
        12.11,
        12.48,
        11.30,
        3.62,
        4.18,
        4.20,
        3.82,
        3.30,
        3.47,
        14.47,
        13.12,
        14.03,
        12.67,
        14.69,
        15.34,
        3.60,
        4.13,
        3.68,
        3.09,
        3.48,
        3.42,
        16.86,
        15.93,
        16.02,
        12.95,
        15.06,
        12.17,
        2.89,
        3.44,
        2.95,
        3.24,
        3.51,
        3.02,
        13.46,
        16.11,
        16.66,
        13.73,
        13.23,
        15.70,
        3.72,
        2.94,
        2.69,
        4.14,
        3.79,
        2.84,
        15.30,
        11.11,
        15.62,
        14.69,
        12.73,
        11.82,
        2.54,
        4.17,
        2.76,
        3.37,
        3.19,
        4.01,
    ),  # "females less than 21 years of age"
    ("F", "21_40"): (
        72.14,
        80.78,
        88.25,
        91.91,
        87.57,
        16.16,
        14.64,
        12.15,
        11.39,
        13.87,
        13.08,
        12.72,
        10.79,
        12.20,
        12.71,
        10.69,
        3.68,
        4.13,
        4.07,
        3.79,
        3.58,
        3.64,
        14.05,
        11.92,
        14.25,
        12.77,
        12.84,
        14.96,
        3.66,
        4.05,
        3.61,
        3.24,
        3.53,
        3.31,
        15.64,
        15.97,
        16.41,
        12.84,
        15.28,
        12.06,
        3.34,
        3.30,
        2.69,
        3.44,
        3.47,
        3.46,
        13.15,
        17.34,
        16.81,
        15.57,
        12.98,
        15.52,
        3.71,
        2.61,
        2.53,
        3.50,
        3.57,
        2.87,
        16.02,
        12.67,
        16.36,
        16.11,
        13.56,
        12.91,
        2.34,
        4.51,
        2.54,
        3.05,
        3.23,
        4.18,
    ),  # "women between 21 and 40 years of age"
    ("F", "41_60"): (
        67.38,
        78.62,
        86.15,
        95.73,
        93.45,
        16.10,
        14.19,
        12.62,
        9.84,
        12.94,
        12.05,
        11.19,
        10.07,
        12.07,
        11.98,
        10.07,
        3.72,
        4.03,
        3.97,
        3.73,
        3.69,
        3.56,
        14.10,
        10.84,
        14.51,
        13.03,
        11.08,
        15.00,
        3.72,
        3.86,
        3.50,
        3.46,
        3.42,
        3.26,
        14.43,
        16.00,
        16.37,
        12.58,
        14.87,
        11.85,
        3.49,
        3.20,
        2.58,
        3.45,
        3.65,
        3.74,
        13.79,
        18.16,
        17.04,
        17.02,
        13.41,
        15.82,
        3.52,
        2.21,
        2.40,
        2.88,
        3.30,
        2.71,
        16.50,
        13.68,
        17.29,
        17.16,
        14.35,
        14.41,
        2.16,
        4.51,
        2.27,
        2.73,
        3.13,
        3.86,
    ),  # "women between 41 and 60 years of age"
    ("F", "over_60"): (
        63.48,
        78.22,
        81.56,
        97.17,
        96.44,
        14.92,
        12.73,
        12.66,
        9.52,
        12.43,
        11.39,
        10.52,
        9.10,
        12.00,
        10.21,
        9.87,
        3.61,
        3.82,
        3.68,
        3.61,
        3.58,
        3.44,
        14.85,
        10.93,
        14.19,
        12.76,
        10.08,
        15.65,
        3.43,
        3.70,
        3.64,
        3.26,
        3.20,
        3.04,
        13.15,
        15.95,
        15.73,
        11.80,
        14.21,
        10.81,
        3.71,
        3.12,
        2.74,
        3.26,
        3.47,
        3.89,
        14.19,
        18.64,
        17.13,
        17.98,
        13.58,
        15.83,
        3.39,
        1.90,
        2.18,
        2.56,
        3.38,
        2.85,
        16.50,
        15.15,
        18.34,
        17.19,
        14.70,
        15.11,
        2.24,
        4.07,
        1.81,
        2.49,
        3.15,
        3.66,
    ),  # "women over 60 years of age"
}

SEXES = ("M", "F")
AGE_BANDS = ("under_21", "21_40", "41_60", "over_60")
_SEX_LABELS = {"M": "men", "F": "women", "all": "people"}
_BAND_LABELS = {
    "under_21": "under 21",
    "21_40": "aged 21 to 40",
    "41_60": "aged 41 to 60",
    "over_60": "over 60",
    "all": "of all ages",
}

# Johnson's percentile cubic and the T range outside which percentiles are pinned.
CUBIC = (210.335958661391, 16.7379362643389, 0.405936512733332, 0.00270624341822222)
T_PIN_LOW, T_PIN_HIGH = 32.0, 73.0
LEVEL_LOW_BELOW, LEVEL_HIGH_ABOVE = 45.0, 55.0


@dataclass(frozen=True)
class NormGroup:
    id: str  # "<M|F|all>_<band|all>", e.g. "F_21_40", "all_41_60"
    label: str
    derived: bool  # True: an equal-weight mixture of published groups (see module doc)
    domains: dict[str, tuple[float, float]]  # "N" -> (mean, sd)
    facets: dict[str, tuple[float, float]]  # "N1" -> (mean, sd)


def _from_array(values: tuple[float, ...]) -> tuple[dict, dict]:
    order = list(DOMAINS)  # N, E, O, A, C: the program's order
    domains = {d: (values[i], values[5 + i]) for i, d in enumerate(order)}
    facets = {}
    for i, d in enumerate(order):
        base = 10 + 12 * i
        for f in range(6):
            facets[f"{d}{f + 1}"] = (values[base + f], values[base + 6 + f])
    return domains, facets


def _mixture(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    means = [m for m, _ in pairs]
    mean = sum(means) / len(means)
    variance = sum(sd * sd for _, sd in pairs) / len(pairs) + sum((m - mean) ** 2 for m in means) / len(means)
    return round(mean, 4), round(math.sqrt(variance), 4)


def age_band(age: int | None) -> str | None:
    """Johnson's bands: under 21, 21–40, 41–60, over 60 (None when age is unknown)."""
    if age is None:
        return None
    if age < 21:
        return "under_21"
    if age <= 40:
        return "21_40"
    if age <= 60:
        return "41_60"
    return "over_60"


def _label(sex: str, band: str) -> str:
    return f"{_SEX_LABELS[sex]} {_BAND_LABELS[band]}"


def _build_groups() -> dict[str, NormGroup]:
    published = {}
    for (sex, band), values in _JOHNSON_NORMS.items():
        domains, facets = _from_array(values)
        published[(sex, band)] = NormGroup(f"{sex}_{band}", _label(sex, band), False, domains, facets)
    groups = {g.id: g for g in published.values()}
    spans = {}
    for band in AGE_BANDS:
        spans[("all", band)] = [(s, band) for s in SEXES]
    for sex in SEXES:
        spans[(sex, "all")] = [(sex, b) for b in AGE_BANDS]
    spans[("all", "all")] = list(published)
    for (sex, band), members in spans.items():
        parts = [published[m] for m in members]
        domains = {d: _mixture([p.domains[d] for p in parts]) for d in DOMAINS}
        facets = {f: _mixture([p.facets[f] for p in parts]) for f in parts[0].facets}
        groups[f"{sex}_{band}"] = NormGroup(f"{sex}_{band}", _label(sex, band), True, domains, facets)
    return groups


NORM_GROUPS: dict[str, NormGroup] = _build_groups()


def norm_group_for(*, sex: str | None, age: int | None) -> NormGroup:
    """The published group of this sex and age, or the combined group when one is unknown."""
    sex_key = sex if sex in SEXES else "all"
    band = age_band(age) or "all"
    return NORM_GROUPS[f"{sex_key}_{band}"]


def t_score(raw: float, mean: float, sd: float) -> float:
    return 50.0 + 10.0 * (raw - mean) / sd


def percentile(t: float) -> int:
    """Johnson's cubic approximation; 1 below T 32, 99 above T 73."""
    if t < T_PIN_LOW:
        return 1
    if t > T_PIN_HIGH:
        return 99
    c0, c1, c2, c3 = CUBIC
    value = int(c0 - c1 * t + c2 * t**2 - c3 * t**3)
    return min(99, max(1, value))


def level(t: float) -> str:
    """``low`` below T 45, ``high`` above T 55, else ``average`` (Johnson's LO/HI)."""
    if t < LEVEL_LOW_BELOW:
        return "low"
    if t > LEVEL_HIGH_ABOVE:
        return "high"
    return "average"


def position(t: float) -> float:
    """Where a score sits on a 0–100 percentile axis: Johnson's cubic before truncation, pinned like
    ``percentile``. Bars end here, so a bar never contradicts its level: every T below 45 (``low``) ends
    before ``LOW_BAND_END`` and every T above 55 (``high``) after ``HIGH_BAND_START``."""
    if t < T_PIN_LOW:
        return 1.0
    if t > T_PIN_HIGH:
        return 99.0
    c0, c1, c2, c3 = CUBIC
    return min(99.0, max(1.0, c0 - c1 * t + c2 * t**2 - c3 * t**3))


# Where the levels change on the percentile axis: the shaded bands of the report's charts.
LOW_BAND_END = position(LEVEL_LOW_BELOW)  # ≈ 32.5: "low" is about the lowest third
HIGH_BAND_START = position(LEVEL_HIGH_ABOVE)  # ≈ 67.5: "high" is about the highest third
