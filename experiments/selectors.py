"""Reads: the cached experiment definitions (the assignment hot path) and the results.

``experiment_definition(key)`` is the only read on the exposure path: a plain dict kept
in the shared Django cache and deleted whenever the experiment or one of its variants
changes (``experiments.receivers.on_definition_changed``, and the services for writes
that send no signal). Results are computed by SQL aggregation on the analytics database
alias (a read replica when one is configured): one grouped query for the participants
and one per conversion type, never rows loaded into Python.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connections

from experiments.models import Experiment, ExperimentStatus
from focusedroom.db import analytics_alias

DEFINITION_TTL = 60 * 60
ACTIVE_CACHE_KEY = "experiments:active:v1"
_MISSING = "__missing__"


def definition_cache_key(key: str) -> str:
    return f"experiments:def:v1:{key}"


def definition_build(experiment: Experiment) -> dict[str, Any]:
    variants = sorted(experiment.variants.all(), key=lambda v: v.position)
    return {
        "id": str(experiment.id),
        "key": experiment.key,
        "name": experiment.name,
        "seed": experiment.hash_seed,
        "status": experiment.status,
        "coverage": float(experiment.coverage),
        "eligibility_rules": experiment.eligibility_rules or {},
        "conversion_window_days": experiment.conversion_window_days,
        "variants": [
            {
                "id": str(v.id),
                "name": v.name,
                "weight": float(v.weight),
                "is_control": v.is_control,
                "config": v.config_json if v.config_json is not None else {},
            }
            for v in variants
        ],
    }


def experiment_definition(*, key: str) -> dict[str, Any] | None:
    """The experiment's definition from the cache (loaded once per change), or None."""
    cache_key = definition_cache_key(key)
    found = cache.get(cache_key)
    if found is None:
        experiment = Experiment.objects.prefetch_related("variants").filter(key=key).first()
        found = definition_build(experiment) if experiment is not None else _MISSING
        cache.set(cache_key, found, DEFINITION_TTL if experiment is not None else 60)
    return None if found == _MISSING else found


def active_definitions() -> list[dict[str, Any]]:
    """Running experiments, for client SDKs that assign locally with the same hash."""
    found = cache.get(ACTIVE_CACHE_KEY)
    if found is None:
        experiments = Experiment.objects.filter(status=ExperimentStatus.RUNNING).prefetch_related("variants")
        found = [definition_build(e) for e in experiments.order_by("key")]
        cache.set(ACTIVE_CACHE_KEY, found, DEFINITION_TTL)
    return found


def definition_invalidate(*keys: str) -> None:
    cache.delete_many([definition_cache_key(k) for k in keys if k] + [ACTIVE_CACHE_KEY])


# ------------------------------------------------------------------------ results

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
    conversion type) within the window; the SRM check follows the results view's rule.
    """
    from experiments.results import SRM_MIN_PARTICIPANTS_PER_VARIANT, SRM_THRESHOLD
    from experiments.stats import srm_p_value

    experiments = list(
        Experiment.objects.using(analytics_alias())
        .filter(status="running")
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
        checked = bool(users) and min(users) >= SRM_MIN_PARTICIPANTS_PER_VARIANT
        p_value = srm_p_value(users, [v["weight"] for v in variants]) if variants else 1.0
        leader = max(variants, key=lambda v: v["rate"]) if any(v["participants"] for v in variants) else None
        overview.append(
            {
                "experiment": experiment,
                "participants": sum(users),
                "leader": leader,
                "variants": variants,
                "srm_p_value": p_value,
                "srm_warning": checked and p_value < SRM_THRESHOLD,
            }
        )
    return overview
