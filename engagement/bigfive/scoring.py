"""Scoring of the IPIP-NEO-120: raw sums, T-scores, percentiles and levels.

A pure function of the answers and the person's sex and age (for the norm group); it
never trusts a client to reverse items — the key lives in ``inventory``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engagement.bigfive import norms
from engagement.bigfive.inventory import (
    ANSWER_MAX,
    ANSWER_MIN,
    DOMAINS,
    FACET_CODES,
    INVENTORY_ID,
    INVENTORY_VERSION,
    ITEMS,
    ITEMS_BY_ID,
)

ITEMS_PER_FACET = 4
FACETS_PER_DOMAIN = 6
FACET_RAW_MIN, FACET_RAW_MAX = ITEMS_PER_FACET * ANSWER_MIN, ITEMS_PER_FACET * ANSWER_MAX  # 4–20
DOMAIN_RAW_MIN, DOMAIN_RAW_MAX = FACETS_PER_DOMAIN * FACET_RAW_MIN, FACETS_PER_DOMAIN * FACET_RAW_MAX  # 24–120


class AnswersError(ValueError):
    """The answers are not a complete, valid set; ``errors`` maps a field to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def clean_answers(answers: Any) -> dict[str, int]:
    """Validate a mapping ``item id -> answer 1–5`` covering every item exactly once."""
    if not isinstance(answers, Mapping):
        raise AnswersError({"answers": ["Send an object mapping each item id to an answer from 1 to 5."]})
    errors: list[str] = []
    cleaned: dict[str, int] = {}
    unknown = sorted(str(k) for k in answers if str(k) not in ITEMS_BY_ID)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        errors.append(f"Unknown item ids: {shown}.")
    bad = []
    for key, value in answers.items():
        key = str(key)
        if key not in ITEMS_BY_ID:
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            bad.append(key)
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            bad.append(key)
            continue
        if isinstance(value, str) and value.strip() != str(number):
            bad.append(key)
            continue
        if not ANSWER_MIN <= number <= ANSWER_MAX:
            bad.append(key)
            continue
        cleaned[key] = number
    if bad:
        shown = ", ".join(sorted(bad)[:5]) + (" …" if len(bad) > 5 else "")
        errors.append(f"Each answer must be a whole number from {ANSWER_MIN} to {ANSWER_MAX} (check {shown}).")
    missing = [item.id for item in ITEMS if item.id not in answers]
    if missing:
        errors.append(f"Answer all {len(ITEMS)} items: {len(missing)} missing.")
    if errors:
        raise AnswersError({"answers": errors})
    return cleaned


def _scaled(raw: int, low: int, high: int) -> int:
    """The raw score placed on 0–100 (0 = lowest possible, 100 = highest possible)."""
    return round(100 * (raw - low) / (high - low))


def score(*, answers: Mapping[str, int], sex: str | None = None, age: int | None = None) -> dict[str, Any]:
    """Score a complete, validated set of answers against Johnson's norms.

    Returns the ``scores`` JSON stored with a result: raw sums, 0–100 scores, T-scores,
    percentiles and levels for the five domains and the thirty facets, the inventory
    id/version and the norm group used.
    """
    facet_raw = dict.fromkeys(FACET_CODES, 0)
    for item in ITEMS:
        facet_raw[item.facet_code] += item.keyed_score(answers[item.id])
    domain_raw = {d: sum(facet_raw[f"{d}{i}"] for i in range(1, 7)) for d in DOMAINS}
    group = norms.norm_group_for(sex=sex, age=age)

    def block(raw: dict[str, int], table: dict[str, tuple[float, float]], low: int, high: int) -> dict:
        t = {k: norms.t_score(v, *table[k]) for k, v in raw.items()}
        return {
            "raw_scores": raw,
            "scores": {k: _scaled(v, low, high) for k, v in raw.items()},
            "t_scores": {k: round(v, 2) for k, v in t.items()},
            "percentiles": {k: norms.percentile(v) for k, v in t.items()},
            "levels": {k: norms.level(v) for k, v in t.items()},
        }

    return {
        "inventory": {"id": INVENTORY_ID, "version": INVENTORY_VERSION},
        "norm_group": {
            "id": group.id,
            "label": group.label,
            "derived": group.derived,
            "source": norms.NORMS_SOURCE,
        },
        **block(domain_raw, group.domains, DOMAIN_RAW_MIN, DOMAIN_RAW_MAX),
        "facets": block(facet_raw, group.facets, FACET_RAW_MIN, FACET_RAW_MAX),
    }


def result_type(scores: Mapping[str, Any]) -> str:
    """A short label of the profile: the most distinctive domain and its level.

    ``high_openness``, ``low_neuroticism``… or ``balanced`` when every domain is average.
    """
    t_scores = scores["t_scores"]
    domain = max(DOMAINS, key=lambda d: (abs(t_scores[d] - 50), -list(DOMAINS).index(d)))
    level = scores["levels"][domain]
    if level == "average":
        return "balanced"
    return f"{level}_{DOMAINS[domain].split()[0].lower()}"
