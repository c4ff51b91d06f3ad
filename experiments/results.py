"""Experiment results: SQL-aggregated counts, then ``stats``.

Everything a results page, an API client, the report command or the dashboard needs, with
plain-language verdicts for marketing staff and the warnings that make a result
untrustworthy (sample-ratio mismatch, multiple exposures, too small a sample). Counts come
from SQL aggregation on the analytics database alias (a read replica when one is
configured): one grouped query for the participants and one per conversion type, never
rows loaded into Python. Other modules read results through ``experiments.selectors``.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

from experiments import stats
from experiments.models import Experiment, ExperimentStatus
from focusedroom.db import analytics_alias

MULTIPLE_EXPOSURE_WARN_SHARE = 0.01


def pct(x: float, digits: int = 0) -> str:
    return f"{x * 100:.{digits}f} %"


PARTICIPANTS_SQL = """
SELECT variant_id,
       count(*) FILTER (WHERE was_eligible_at_exposure AND NOT has_multiple_exposures) AS participants,
       count(*) FILTER (WHERE has_multiple_exposures) AS multiple_exposures,
       count(*) FILTER (WHERE NOT was_eligible_at_exposure AND NOT has_multiple_exposures) AS excluded,
       coalesce(sum(total_impressions), 0) AS impressions
  FROM user_experiment_participation
 WHERE experiment_id = %s
 GROUP BY variant_id
"""

# Converters and value per participant, for the analysed participants only. A conversion
# carries its participant's variant and whether the participant is counted
# (``conversion_eligibility_verified``: eligible and not multiply exposed; identity
# stitching clears it when a merge makes the participant a multiple exposure), so the
# metric reads the conversions alone, through the ``conversions_results`` index.
METRIC_SQL = """
SELECT variant_id,
       count(*) AS converters,
       coalesce(sum(value), 0) AS value_sum,
       coalesce(sum(value * value), 0) AS value_sum_squares
  FROM (SELECT variant_id, participation_id, sum(coalesce(conversion_value, 0)) AS value
          FROM conversions
         WHERE experiment_id = %s AND conversion_type = %s
           AND conversion_within_window AND conversion_eligibility_verified
         GROUP BY variant_id, participation_id) c
 GROUP BY variant_id
"""

TYPES_SQL = """
SELECT DISTINCT conversion_type FROM conversions WHERE experiment_id = %s ORDER BY conversion_type
"""


def results_counts(*, experiment: Experiment, conversion_types: list[str] | None = None) -> dict[str, Any]:
    """Per-variant sufficient statistics: participants and, per conversion type, converters and value sums."""
    with connections[analytics_alias()].cursor() as cursor:
        cursor.execute(PARTICIPANTS_SQL, [experiment.id])
        participants = {
            str(row[0]): {
                "participants": row[1],
                "multiple_exposures": row[2],
                "excluded": row[3],
                "impressions": row[4],
            }
            for row in cursor.fetchall()
        }
        if conversion_types is None:
            cursor.execute(TYPES_SQL, [experiment.id])
            conversion_types = [row[0] for row in cursor.fetchall()]
        metrics: dict[str, dict[str, dict[str, float]]] = {}
        for conversion_type in conversion_types:
            cursor.execute(METRIC_SQL, [experiment.id, conversion_type])
            metrics[conversion_type] = {
                str(row[0]): {"converters": row[1], "value_sum": float(row[2]), "value_sum_squares": float(row[3])}
                for row in cursor.fetchall()
            }
    return {"participants": participants, "metrics": metrics}


def experiment_results(*, experiment: Experiment, conversion_types: list[str] | None = None) -> dict[str, Any]:
    variants = list(experiment.variants.order_by("position"))
    counts = results_counts(experiment=experiment, conversion_types=conversion_types)
    confidence = float(experiment.confidence_level or 0.95)
    alpha = 1 - confidence
    mde = float(experiment.minimum_detectable_effect or 0.05)
    control = next((v for v in variants if v.is_control), variants[0] if variants else None)
    others = [v for v in variants if v is not control]

    rows = []
    for v in variants:
        c = counts["participants"].get(str(v.id), {})
        rows.append(
            {
                "id": str(v.id),
                "name": v.name,
                "is_control": v is control,
                "weight": float(v.weight),
                "participants": c.get("participants", 0),
                "impressions": c.get("impressions", 0),
                "multiple_exposures": c.get("multiple_exposures", 0),
                "excluded": c.get("excluded", 0),
            }
        )
    by_id = {r["id"]: r for r in rows}
    analysed = sum(r["participants"] for r in rows)
    multiple = sum(r["multiple_exposures"] for r in rows)
    exposed = analysed + multiple
    multiple_share = multiple / exposed if exposed else 0.0

    srm = stats.sample_ratio_check([r["participants"] for r in rows], [r["weight"] for r in rows])

    warnings = []
    if srm.mismatch:
        warnings.append(
            {
                "code": "srm",
                "message": f"Sample ratio mismatch (p = {srm.p_value:.2g}): traffic does not match the configured "
                "split. Check assignment and tracking before trusting any result.",
            }
        )
    if multiple_share > MULTIPLE_EXPOSURE_WARN_SHARE:
        warnings.append(
            {
                "code": "multiple_exposures",
                "message": f"{pct(multiple_share, 1)} of participants saw several variants; they are left out of "
                "the analysis.",
            }
        )
    target = experiment.target_sample_size
    progress = {
        "participants": analysed,
        "target_sample_size": target,
        "share": min(analysed / target, 1.0) if target else None,
    }
    if target and analysed < target:
        warnings.append(
            {
                "code": "sample_size",
                "message": f"Collecting data: {analysed:,} of {target:,} participants ({pct(analysed / target)}). "
                "Results can still change a lot.",
            }
        )

    metrics = []
    for conversion_type, per_variant in counts["metrics"].items() if control is not None else ():
        metrics.append(_metric(conversion_type, per_variant, by_id, control, others, alpha, confidence, mde))
    return {
        "experiment": {
            "key": experiment.key,
            "name": experiment.name,
            "status": experiment.status,
            "started_at": experiment.started_at.isoformat() if experiment.started_at else None,
            "ended_at": experiment.ended_at.isoformat() if experiment.ended_at else None,
            "confidence_level": confidence,
            "minimum_detectable_effect": mde,
            "coverage": float(experiment.coverage),
            "conversion_window_days": experiment.conversion_window_days,
        },
        "variants": rows,
        "participants": analysed,
        "multiple_exposure_participants": multiple,
        "multiple_exposure_share": multiple_share,
        "srm": srm.as_dict(),
        "progress": progress,
        "metrics": metrics,
        "warnings": warnings,
    }


def _metric(conversion_type, per_variant, by_id, control, others, alpha, confidence, mde) -> dict[str, Any]:
    def stat_rows(v):
        n = by_id[str(v.id)]["participants"]
        m = per_variant.get(str(v.id), {"converters": 0, "value_sum": 0.0, "value_sum_squares": 0.0})
        converters = min(m["converters"], n)
        return n, converters, m["value_sum"], m["value_sum_squares"]

    n_a, x_a, s_a, ss_a = stat_rows(control)
    rate_a = stats.proportion(n_a, x_a)
    value_a = stats.sample_mean(n_a, s_a, ss_a)
    control_rate = rate_a.mean
    out_variants = [
        {
            "name": control.name,
            "is_control": True,
            "participants": n_a,
            "converters": x_a,
            "conversion_rate": rate_a.mean,
            "value_mean": value_a.mean,
        }
    ]
    comparisons = []
    for v in others:
        n_b, x_b, s_b, ss_b = stat_rows(v)
        rate_b = stats.proportion(n_b, x_b)
        value_b = stats.sample_mean(n_b, s_b, ss_b)
        freq = stats.frequentist(rate_a, rate_b, alpha=alpha)
        bayes = stats.bayesian(rate_a, rate_b, alpha=alpha)
        value = stats.frequentist(value_a, value_b, alpha=alpha)
        row = {
            "name": v.name,
            "is_control": False,
            "participants": n_b,
            "converters": x_b,
            "conversion_rate": rate_b.mean,
            "value_mean": value_b.mean,
            "uplift": freq["uplift"],
            "ci": freq["ci"],
            "p_value": freq["p_value"],
            "chance_to_win": bayes["chance_to_win"],
            "risk_control": bayes["risk"][0],
            "risk_variant": bayes["risk"][1],
            "credible_interval": bayes["ci"],
            "value_uplift": value["uplift"],
            "value_ci": value["ci"],
            "value_p_value": value["p_value"],
            "error": freq["error"] or bayes["error"],
        }
        comparisons.append(row)
        out_variants.append(row)
    adjusted = stats.holm([c["p_value"] for c in comparisons]) if comparisons else []
    for row, p_adj in zip(comparisons, adjusted, strict=True):
        row["p_value_holm"] = p_adj
        row["significant"] = row["error"] is None and p_adj < alpha
        row["verdict"] = _verdict(row, control.name, confidence)
    needed = (
        stats.sample_size_per_variant(control_rate=control_rate, mde=mde, confidence=confidence)
        if control_rate
        else None
    )
    smallest = min((r["participants"] for r in out_variants), default=0)
    return {
        "conversion_type": conversion_type,
        "variants": out_variants,
        "power": {
            "control_rate": control_rate,
            "minimum_detectable_effect": mde,
            "power": 0.8,
            "participants_needed_per_variant": needed,
            "enough": needed is not None and smallest >= needed,
        },
    }


def _verdict(row: dict, control_name: str, confidence: float) -> str:
    name = row["name"]
    level = pct(confidence)
    if row["error"]:
        return f"Not enough data yet to compare {name} with {control_name}."
    chance = row["chance_to_win"]
    lead = (
        f"{name} beats {control_name} with {pct(chance)} probability"
        if chance >= 0.5
        else f"{control_name} beats {name} with {pct(1 - chance)} probability"
    )
    if row["significant"]:
        return f"{lead}; significant at your {level} level (uplift {row['uplift'] * 100:+.1f} %)."
    return f"{lead}; not yet significant at your {level} level."


RUNNING_COUNTS_SQL = """
SELECT p.experiment_id, p.variant_id,
       count(*) AS participants,
       count(*) FILTER (WHERE p.has_converted AND p.conversion_within_window) AS converters
  FROM user_experiment_participation p
  JOIN experiments e ON e.id = p.experiment_id
 WHERE e.status = 'running' AND p.was_eligible_at_exposure AND NOT p.has_multiple_exposures
 GROUP BY p.experiment_id, p.variant_id
"""


def running_experiments_overview() -> list[dict[str, Any]]:
    """Running experiments with their leading variant and SRM state, in a fixed number of queries.

    The leader is the variant with the highest share of participants who converted (any
    conversion type) within the window; the sample-ratio check is ``stats.sample_ratio_check``,
    as on the results page.
    """
    experiments = list(
        Experiment.objects.using(analytics_alias())
        .filter(status=ExperimentStatus.RUNNING)
        .prefetch_related("variants")
        .order_by("name")
    )
    with connections[analytics_alias()].cursor() as cursor:
        cursor.execute(RUNNING_COUNTS_SQL)
        counts = {(str(e), str(v)): (n, c) for e, v, n, c in cursor.fetchall()}
    overview = []
    for experiment in experiments:
        variants = []
        for variant in experiment.variants.all():
            n, c = counts.get((str(experiment.id), str(variant.id)), (0, 0))
            variants.append(
                {
                    "name": variant.name,
                    "weight": float(variant.weight),
                    "participants": n,
                    "converters": c,
                    "rate": c / n if n else 0.0,
                    "is_control": variant.is_control,
                }
            )
        users = [v["participants"] for v in variants]
        srm = stats.sample_ratio_check(users, [v["weight"] for v in variants])
        leader = max(variants, key=lambda v: v["rate"]) if any(v["participants"] for v in variants) else None
        overview.append(
            {
                "experiment": experiment,
                "participants": sum(users),
                "leader": leader,
                "variants": variants,
                "srm_p_value": srm.p_value,
                "srm_warning": srm.mismatch,
            }
        )
    return overview
