"""Measurement error of the IPIP-NEO-120 scales, and when a change between two tests is real.

Nobody answers a questionnaire exactly the same way twice. Before a retest says that a trait
*changed*, the difference must be larger than what measurement error alone produces: the
**reliable change index** of Jacobson & Truax (1991), "Clinical significance: a statistical
approach to defining meaningful change in psychotherapy research", Journal of Consulting and
Clinical Psychology 59(1), 12–19:

    SE     = SD · sqrt(1 − r)          standard error of measurement of the scale
    S_diff = sqrt(2) · SE              standard error of the difference of two scores
    RCI    = (x2 − x1) / S_diff        a change is reliable when |RCI| > 1.96 (95 %)

``x`` are raw scale sums (so a change of norm group between the two tests, e.g. a new age band,
moves nothing), ``SD`` the scale's standard deviation in the later test's norm group (Johnson's
published norms, ``norms.py``), ``r`` the scale's reliability.

**Facet reliabilities.** Coefficient alpha of the 4-item IPIP-NEO-120 facet scales as published
by Johnson on the IPIP site, "Characteristics of the IPIP scales measuring constructs similar to
those in the 30 NEO-PI-R facet scales (Johnson, 2011)", https://ipip.ori.org/IPIP300-120ComparisonTable.htm,
column "Coefficient Alpha — IPIP 120" (Eugene-Springfield community sample). ``FACET_ALPHA_SOURCE``
says for every facet whether its value is that published figure (``"published"``) or a stand-in
(``"stand-in"``): for the facets whose published figure could not be checked when this table was
written, the value is the lowest published IPIP-120 facet alpha in the table (.60, Gregariousness),
so that those scales claim a change less readily, never more. Replace a stand-in with the
published figure when it is at hand (and change its source to ``"published"``).

**Domain reliabilities** follow from those figures and the published norms, without inventing
anything: a domain score is the sum of its six facets, so its error variance is the sum of the
facets' error variances, and its reliability is Mosier's (1943) composite reliability
("On the reliability of a weighted composite", Psychometrika 8, 161–168):

    r_domain = 1 − Σ SD_f² · (1 − α_f) / SD_domain²

with the facet and domain SDs of the same norm group (the domain SD already holds the
covariances of the facets). For the combined norm of all people this gives about .91 for
Neuroticism, .89 Extraversion, .85 Openness, .84 Agreeableness and .87 Conscientiousness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engagement.bigfive import norms
from engagement.bigfive.inventory import DOMAINS

Z_95 = 1.96
STAND_IN_ALPHA = 0.60  # the lowest published IPIP-120 facet alpha (E2 Gregariousness)

# Coefficient alpha of each facet scale (see the module docstring for the source).
FACET_ALPHA: dict[str, float] = {
    "N1": 0.71, "N2": 0.77, "N3": 0.80, "N4": 0.63, "N5": 0.69, "N6": 0.70,
    "E1": 0.77, "E2": 0.60, "E3": 0.75, "E4": 0.68, "E5": 0.67, "E6": 0.71,
    "O1": 0.70, "O2": 0.72, "O3": 0.67, "O4": STAND_IN_ALPHA, "O5": STAND_IN_ALPHA, "O6": STAND_IN_ALPHA,
    "A1": STAND_IN_ALPHA, "A2": STAND_IN_ALPHA, "A3": STAND_IN_ALPHA,
    "A4": STAND_IN_ALPHA, "A5": STAND_IN_ALPHA, "A6": STAND_IN_ALPHA,
    "C1": STAND_IN_ALPHA, "C2": STAND_IN_ALPHA, "C3": STAND_IN_ALPHA,
    "C4": STAND_IN_ALPHA, "C5": STAND_IN_ALPHA, "C6": STAND_IN_ALPHA,
}  # fmt: skip
FACET_ALPHA_SOURCE: dict[str, str] = {
    code: "published" if code[0] in "NE" or code in ("O1", "O2", "O3") else "stand-in" for code in FACET_ALPHA
}


def _group(group_id: str | None) -> norms.NormGroup:
    return norms.NORM_GROUPS.get(group_id or "", norms.NORM_GROUPS["all_all"])


def domain_reliability(domain: str, *, group_id: str | None = None) -> float:
    """Mosier's composite reliability of a domain in a norm group (see the module docstring)."""
    group = _group(group_id)
    error = sum(group.facets[f"{domain}{i}"][1] ** 2 * (1 - FACET_ALPHA[f"{domain}{i}"]) for i in range(1, 7))
    return 1 - error / group.domains[domain][1] ** 2


@dataclass(frozen=True)
class Change:
    """The change of one scale between two tests."""

    raw_change: int  # later − earlier raw sum
    threshold: float  # the smallest raw change beyond measurement error (1.96 · S_diff)
    rci: float
    reliable: bool

    @property
    def direction(self) -> str:
        """``higher`` or ``lower`` for a reliable change, else empty."""
        if not self.reliable:
            return ""
        return "higher" if self.raw_change > 0 else "lower"


def reliable_change(*, earlier: int | float, later: int | float, sd: float, reliability: float) -> Change:
    s_diff = math.sqrt(2) * sd * math.sqrt(1 - reliability)
    rci = (later - earlier) / s_diff
    return Change(
        raw_change=round(later - earlier), threshold=Z_95 * s_diff, rci=round(rci, 2), reliable=abs(rci) > Z_95
    )


def domain_changes(*, earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Change]:
    """The reliable change of each domain between two stored ``scores`` (the later one's norm group)."""
    group_id = (later.get("norm_group") or {}).get("id")
    group = _group(group_id)
    return {
        d: reliable_change(
            earlier=earlier["raw_scores"][d],
            later=later["raw_scores"][d],
            sd=group.domains[d][1],
            reliability=domain_reliability(d, group_id=group.id),
        )
        for d in DOMAINS
    }


def facet_changes(*, earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Change]:
    """The reliable change of each facet between two stored ``scores``."""
    group = _group((later.get("norm_group") or {}).get("id"))
    before, after = earlier["facets"]["raw_scores"], later["facets"]["raw_scores"]
    return {
        code: reliable_change(
            earlier=before[code], later=after[code], sd=group.facets[code][1], reliability=FACET_ALPHA[code]
        )
        for code in FACET_ALPHA
    }
