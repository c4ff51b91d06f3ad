"""What a Big Five report shows, computed from stored ``scores`` (pure functions, no database).

* ``report`` — the domains and facets with their percentile, level, the position of their bar on
  the percentile axis (consistent with the shaded bands, see ``norms.position``), what each scale
  means and what the person's level means; a summary sorted by what stands out; and, with an
  earlier report, the change of each domain and whether it exceeds measurement error
  (``reliability``).
* ``comparison`` — two people's profiles side by side, domain by domain, with plain-language notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engagement.bigfive import norms, reliability
from engagement.bigfive.descriptions import DOMAIN_DESCRIPTIONS, FACET_DESCRIPTIONS, Description
from engagement.bigfive.inventory import DISPLAY_ORDER, DOMAINS, FACETS

BANDS = {
    "low_end": round(norms.LOW_BAND_END, 1),
    "high_start": round(norms.HIGH_BAND_START, 1),
    "high_width": round(100 - norms.HIGH_BAND_START, 1),
}
SUMMARY_FACETS = 4  # facets named in the summary: the ones furthest from average


def _meaning(description: Description, level: str) -> str:
    """The sentence that fits the person's level."""
    if level == "low":
        return description.low
    if level == "high":
        return description.high
    return "In the middle range: a bit of both ends, depending on the situation."


def _scale(code: str, name: str, block: Mapping[str, Any], description: Description) -> dict[str, Any]:
    t = block["t_scores"][code]
    level = block["levels"][code]
    return {
        "code": code,
        "name": name,
        "percentile": block["percentiles"][code],
        "t_score": t,
        "raw": block["raw_scores"][code],
        "level": level,
        "position": round(norms.position(t), 1),
        "distance": round(abs(t - 50), 2),  # how far from the middle of the norm group: what stands out
        "about": description.about,
        "low_text": description.low,
        "high_text": description.high,
        "meaning": _meaning(description, level),
    }


def report(*, scores: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The report of one result; ``previous`` is the scores of the person's report just before it."""
    facets_block = scores["facets"]
    changes = reliability.domain_changes(earlier=previous, later=scores) if previous is not None else {}
    domains = []
    for code in DISPLAY_ORDER:
        row = _scale(code, DOMAINS[code], scores, DOMAIN_DESCRIPTIONS[code])
        row["short_name"] = DOMAINS[code].split()[0]
        row["facets"] = [
            _scale(f"{code}{i}", FACETS[code][i - 1], facets_block, FACET_DESCRIPTIONS[f"{code}{i}"])
            for i in range(1, 7)
        ]
        if previous is not None:
            change = changes[code]
            row["previous_percentile"] = previous["percentiles"][code]
            row["previous_level"] = previous["levels"][code]
            row["previous_position"] = round(norms.position(previous["t_scores"][code]), 1)
            row["change"] = row["percentile"] - previous["percentiles"][code]
            row["reliable"] = change.reliable
            row["direction"] = change.direction
            row["rci"] = change.rci
        domains.append(row)
    standing_out = sorted(domains, key=lambda d: (-d["distance"], DISPLAY_ORDER.index(d["code"])))
    facets = [f for d in domains for f in d["facets"] if f["level"] != "average"]
    facets.sort(key=lambda f: -f["distance"])
    return {
        "domains": domains,
        "summary": standing_out,
        "summary_facets": facets[:SUMMARY_FACETS],
        "norm_group": scores.get("norm_group", {}),
        "bands": BANDS,
        "has_previous": previous is not None,
        "reliable_changes": [d for d in domains if d.get("reliable")],
    }


# ------------------------------------------------------------------------ comparison

_SIMILAR = {
    "O": {
        "high": "You are both curious and drawn to new ideas: expect long conversations and plans to try new things.",
        "average": "You are both open to new ideas when they serve a purpose, and comfortable with what works.",
        "low": "You both prefer the familiar and the practical: you will agree quickly on what is worth doing.",
    },
    "C": {
        "high": "You are both organised and reliable: shared plans are likely to be kept.",
        "average": "You both plan when it matters and improvise when it does not.",
        "low": "You both like to keep things loose: agree on the few deadlines that really matter.",
    },
    "E": {
        "high": "You both draw energy from people and activity: a full calendar suits you both.",
        "average": "You both enjoy company in good measure and also value some quiet time.",
        "low": "You both recharge in quiet: calm evenings and small groups suit you both.",
    },
    "A": {
        "high": "You are both warm and accommodating: make sure someone still says what is not working.",
        "average": "You both balance getting along with standing your ground.",
        "low": "You are both direct: disagreements will be out in the open, which can clear the air.",
    },
    "N": {
        "high": "You both feel stress strongly: plan how you will support each other when things get hard.",
        "average": "You both react to stress in a moderate way and usually recover in good time.",
        "low": "You both stay calm under pressure: you can steady each other, but do not overlook real warning signs.",
    },
}
_DIFFERENT = {
    "O": "{higher} looks for novelty and new ideas more than {lower}, who prefers what is proven. "
    "Together you can balance exploring with getting things done.",
    "C": "{higher} likes plans, order and finishing early more than {lower}, who prefers flexibility. "
    "Agree together which things need a plan and which can stay open.",
    "E": "{higher} seeks out people and activity more than {lower}, who needs more quiet time to recharge. "
    "Plan social time with both needs in mind.",
    "A": "{higher} puts harmony and others' needs first more readily than {lower}, who is more direct and "
    "competitive. Let {lower} voice the hard truths and {higher} keep everyone on board.",
    "N": "{higher} feels worry and stress more strongly than {lower}, who stays calmer under pressure. "
    "{lower} can help steady things; {higher} often spots risks early.",
}


def comparison(
    *, first: Mapping[str, Any], second: Mapping[str, Any], first_name: str, second_name: str
) -> list[dict[str, Any]]:
    """Two profiles side by side, domain by domain.

    Two people "differ" on a domain when the gap between their raw scores exceeds what measurement
    error alone produces (the same 95 % rule as for a retest, ``reliability``); otherwise the note
    describes what they share."""
    group_id = (first.get("norm_group") or {}).get("id")
    rows = []
    for code in DISPLAY_ORDER:
        group = norms.NORM_GROUPS.get(group_id or "", norms.NORM_GROUPS["all_all"])
        gap = reliability.reliable_change(
            earlier=second["raw_scores"][code],
            later=first["raw_scores"][code],
            sd=group.domains[code][1],
            reliability=reliability.domain_reliability(code, group_id=group.id),
        )
        a = {
            "name": first_name,
            "percentile": first["percentiles"][code],
            "level": first["levels"][code],
            "position": round(norms.position(first["t_scores"][code]), 1),
        }
        b = {
            "name": second_name,
            "percentile": second["percentiles"][code],
            "level": second["levels"][code],
            "position": round(norms.position(second["t_scores"][code]), 1),
        }
        if gap.reliable:
            higher, lower = (first_name, second_name) if gap.raw_change > 0 else (second_name, first_name)
            note = _DIFFERENT[code].format(higher=higher, lower=lower)
            similar = False
        else:
            shared = norms.level((first["t_scores"][code] + second["t_scores"][code]) / 2)
            note = _SIMILAR[code][shared]
            similar = True
        rows.append(
            {
                "code": code,
                "name": DOMAINS[code],
                "about": DOMAIN_DESCRIPTIONS[code].about,
                "people": [a, b],
                "similar": similar,
                "note": note,
            }
        )
    return rows
