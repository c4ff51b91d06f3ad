"""Reads: the cached experiment definitions (the assignment hot path) and the results.

``experiment_definition(key)`` is the only read on the exposure path: a plain dict kept
in the shared Django cache and deleted whenever the experiment or one of its variants
changes (``experiments.receivers.on_definition_changed``, and the services for writes
that send no signal).

Results — ``experiment_results`` (one experiment, for the console, the API and the report
command) and ``running_experiments_overview`` (the dashboard) — are computed in
``experiments.results`` and read through this module.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from experiments.models import Experiment, ExperimentStatus
from experiments.results import experiment_results, running_experiments_overview

__all__ = [
    "ACTIVE_CACHE_KEY",
    "DEFINITION_TTL",
    "active_definitions",
    "definition_build",
    "definition_cache_key",
    "definition_invalidate",
    "experiment_definition",
    "experiment_results",
    "running_experiments_overview",
]

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
