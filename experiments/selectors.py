"""Reads: the cached experiment definitions (the assignment hot path) and the results.

``experiment_definition(key)`` is the only read on the exposure path: a plain dict kept in
the process's own memory, good while the shared version ``experiments.definitions``
(``focusedroom.versions``: a Redis key, or a row bumped in the writer's transaction) has not
changed. Whenever an experiment, one of its variants or a holdout changes
(``experiments.receivers.on_definition_changed``, and the services for writes that send no
signal), the version is bumped and every process reloads what it needs, once. Other traffic can
never evict a definition (the database cache culled them first when full).

Results — ``experiment_results`` (one experiment, for the console, the API and the report
command) and ``running_experiments_overview`` (the dashboard) — are computed in
``experiments.results`` and read through this module.

Holdouts — ``holdout_contains(brand=, user=, anonymous_id=)`` is the rule (one function): a
brand's holdout is never assigned to an experiment. The default brand's holdout travels with
every cached definition, so the exposure path reads nothing more. Apps beside experiments
(``rewards``) ask through ``focusedroom.registries.in_holdout``.
"""

from __future__ import annotations

from typing import Any

from accounts import selectors as accounts_selectors
from experiments import hashing
from experiments.models import Experiment, ExperimentStatus, Holdout
from experiments.results import experiment_results, running_experiments_overview
from focusedroom import versions

__all__ = [
    "ACTIVE_CACHE_KEY",
    "DEFINITION_TTL",
    "active_definitions",
    "definition_build",
    "definition_cache_key",
    "definition_invalidate",
    "definitions_forget_local",
    "definitions_version_held",
    "experiment_definition",
    "experiment_results",
    "holdout_contains",
    "holdout_definition",
    "holdout_invalidate",
    "holdout_member",
    "running_experiments_overview",
    "VERSION_NAME",
]

DEFINITION_TTL = 60 * 60
ACTIVE_CACHE_KEY = "experiments:active:v1"
VERSION_NAME = "experiments.definitions"
_MISSING = "__missing__"


def definition_cache_key(key: str) -> str:
    return f"experiments:def:v1:{key}"


class _LocalDefinitions:
    """The process's copy of the definitions, holdouts and active list, valid at one shared version."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.entries: dict[str, Any] = {}

    def fresh(self) -> dict[str, Any]:
        """The entries, emptied first when the shared version moved (one read of the version)."""
        version = versions.current(VERSION_NAME)
        if version != self.version:
            self.entries = {}
            self.version = version
        return self.entries

    def held(self) -> dict[str, Any]:
        """The entries as this process holds them, without reading the shared version (read once
        if nothing was ever loaded): for a caller that checks the version where it writes."""
        return self.fresh() if self.version is None else self.entries

    def forget(self) -> None:
        self.version = None
        self.entries = {}


_local = _LocalDefinitions()


def definitions_forget_local() -> None:
    """Drop this process's copy (tests: the database is rolled back under it)."""
    _local.forget()


_DEFAULT_HOLDOUT = object()


def definition_build(experiment: Experiment, *, holdout: Any = _DEFAULT_HOLDOUT) -> dict[str, Any]:
    """The cached definition: what assignment needs, with the default brand's holdout."""
    if holdout is _DEFAULT_HOLDOUT:
        holdout = holdout_definition(brand_id=accounts_selectors.brand_default_id())
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
        "holdout": holdout,
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


def experiment_definition(*, key: str, as_held: bool = False) -> dict[str, Any] | None:
    """The experiment's definition from this process's memory (loaded once per change), or None.

    ``as_held=True`` skips reading the shared version: the copy may be out of date, so the caller
    must check ``definitions_version_held()`` where it writes (the exposure buffer's append does,
    in the same round trip) and ask again without ``as_held`` when it moved."""
    entries = _local.held() if as_held else _local.fresh()
    cache_key = definition_cache_key(key)
    found = entries.get(cache_key)
    if found is None:
        experiment = Experiment.objects.prefetch_related("variants").filter(key=key).first()
        found = definition_build(experiment) if experiment is not None else _MISSING
        entries[cache_key] = found
    return None if found == _MISSING else found


def definitions_version_held() -> int | None:
    """The shared version (``VERSION_NAME``) this process's definitions were loaded at."""
    return _local.version


def active_definitions() -> list[dict[str, Any]]:
    """Running experiments, for client SDKs that assign locally with the same hash."""
    entries = _local.fresh()
    found = entries.get(ACTIVE_CACHE_KEY)
    if found is None:
        experiments = Experiment.objects.filter(status=ExperimentStatus.RUNNING).prefetch_related("variants")
        holdout = holdout_definition(brand_id=accounts_selectors.brand_default_id())
        found = [definition_build(e, holdout=holdout) for e in experiments.order_by("key")]
        entries[ACTIVE_CACHE_KEY] = found
    return found


def definition_invalidate(*keys: str) -> None:
    """An experiment or its variants changed: every process reloads its definitions (one bump for all)."""
    versions.bump(VERSION_NAME)


# ------------------------------------------------------------------------------ holdouts


def holdout_cache_key(brand_id: int) -> str:
    return f"experiments:holdout:v1:{brand_id}"


def holdout_definition(*, brand_id: int | None) -> dict[str, Any] | None:
    """The brand's active holdout as ``{"share", "seed"}`` (kept with the definitions), or None (nobody held out)."""
    if brand_id is None:
        return None
    entries = _local.fresh()
    cache_key = holdout_cache_key(brand_id)
    found = entries.get(cache_key)
    if found is None:
        row = Holdout.objects.filter(brand_id=brand_id, is_active=True, share__gt=0).values("share", "seed").first()
        found = {"share": float(row["share"]), "seed": row["seed"]} if row else _MISSING
        entries[cache_key] = found
    return None if found == _MISSING else found


def holdout_member(*, holdout: dict[str, Any] | None, participant_key: str) -> bool:
    """The holdout rule: GrowthBook's hash v2 of ``seed + participant key`` falls below the share.

    The participant key is the one assignment uses (the person's id, else the visitor's
    anonymous id). Stable, and raising the share only adds people to the holdout.
    """
    if not holdout or not participant_key:
        return False
    return hashing.gb_hash(holdout["seed"], participant_key, 2) < holdout["share"]


def holdout_contains(*, brand=None, user=None, anonymous_id: str = "") -> bool:
    """Whether the person (or the visitor) is in the brand's holdout; the default brand when none is given."""
    brand_id = brand.pk if brand is not None else accounts_selectors.brand_default_id()
    participant_key = str(user.pk) if user is not None else (anonymous_id or "")
    return holdout_member(holdout=holdout_definition(brand_id=brand_id), participant_key=participant_key)


def holdout_invalidate(brand_id: int) -> None:
    """A holdout changed: every process reloads it and the definitions (the default brand's travels with them)."""
    versions.bump(VERSION_NAME)
