"""Writes for experiments: definitions, lifecycle, exposures, conversions, identity stitching.

Every function is keyword-only and owns its transaction. Every rule on the input is checked
here, once (the API serializers and the console forms only shape input): bad input raises
Django's ``ValidationError`` with field messages; impossible transitions raise ``Conflict``.
The database enforces the same rules (see ``experiments.models``).

``context`` is always a ``focusedroom.context.RequestContext``: who acts (recorded in the
experiment's history), and for exposures and conversions the browser's user agent and, on
pages, the page URL and UTM tags, used when the caller does not give them. What a client
reports about an exposure or a conversion (page URL, screen, scroll depth, UTM tags …) is
``tracking``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from psycopg.types.json import Jsonb

from engagement import selectors as engagement_selectors
from experiments import conditions, exposure_buffer, hashing
from experiments.models import (
    HOLDOUT_SHARE_MAX,
    PRE_EXPOSURE_WINDOW_MAX,
    SEQUENTIAL_TUNING_MIN,
    ConnectionType,
    Conversion,
    ConversionAttribution,
    DeviceType,
    Experiment,
    ExperimentAuditLog,
    ExperimentStatus,
    Holdout,
    Impression,
    Participation,
    Variant,
)
from experiments.selectors import (
    definition_invalidate,
    definitions_version_held,
    experiment_definition,
    holdout_invalidate,
    holdout_member,
)
from focusedroom import counters, partitions
from focusedroom.context import visitor_id_from_token
from focusedroom.db import fetch_prepared
from focusedroom.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from focusedroom.ids import uuid7

if TYPE_CHECKING:
    from focusedroom.context import RequestContext

logger = logging.getLogger(__name__)

ANONYMOUS_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Conversions only the services that know them record (receivers of quiz_completed, email_verified and
# goal_reached, with source="built_in"); no client may post them.
BUILT_IN_CONVERSIONS = frozenset({"big_five_completed", "email_verified", "referral_converted"})
CONVERSION_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
EDITABLE_FIELDS = {
    "name",
    "description",
    "target_sample_size",
    "confidence_level",
    "minimum_detectable_effect",
    "coverage",
    "eligibility_rules",
    "conversion_window_days",
    "key",
    "seed",
    "sequential_testing",
    "sequential_tuning",
    "regression_adjustment",
    "pre_exposure_window_days",
    "guardrail_threshold",
}
# Fixed before the first look: the hash, the window, and the sequential test's tuning (choosing it
# after seeing results would void the always-valid guarantee).
DRAFT_ONLY_FIELDS = {"key", "seed", "conversion_window_days", "sequential_tuning"}
SEQUENTIAL_TUNING_MAX = 100_000_000
RESERVED_KEYS = {"active"}  # /api/v1/experiments/active/

# --------------------------------------------------------------------- validation


def _decimal(value: Any, field_name: str, lo: Decimal, hi: Decimal, places: int) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field_name: ["Enter a number."]}) from None
    if not d.is_finite() or not lo <= d <= hi:
        raise ValidationError({field_name: [f"Must be between {lo} and {hi}."]})
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field_name: [f"At most {places} decimal places."]})
    return d


def _clean_fields(data: dict[str, Any], *, instance: Experiment | None = None) -> dict[str, Any]:
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({f: ["Unknown field."] for f in sorted(unknown)})
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        if name == "name":
            value = str(value or "").strip()
            if not value or len(value) > 200:
                raise ValidationError({"name": ["Give a name of 1 to 200 characters."]})
            clash = Experiment.objects.filter(name=value)
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                raise ValidationError({"name": ["An experiment with this name already exists."]})
        elif name == "key":
            value = str(value or "").strip()
            if value and (slugify(value) != value or len(value) > 100):
                raise ValidationError({"key": ["Use lower-case letters, digits and hyphens (at most 100)."]})
        elif name == "seed":
            value = str(value or "").strip()
            if len(value) > 100:
                raise ValidationError({"seed": ["At most 100 characters."]})
        elif name == "description":
            value = None if value is None else str(value)
            if value is not None and len(value) > 10_000:
                raise ValidationError({"description": ["At most 10,000 characters."]})
        elif name in ("target_sample_size", "conversion_window_days"):
            if value is None and name == "target_sample_size":
                cleaned[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 2_000_000_000:
                raise ValidationError({name: ["Enter a positive whole number."]})
            if name == "conversion_window_days" and value > 3650:
                raise ValidationError({name: ["At most 3650 days."]})
        elif name == "confidence_level":
            value = _decimal(value, name, Decimal("0.80"), Decimal("0.99"), 2)
        elif name == "minimum_detectable_effect":
            value = _decimal(value, name, Decimal("0.0001"), Decimal("9.9999"), 4)
        elif name == "coverage":
            value = _decimal(value, name, Decimal("0"), Decimal("1"), 4)
        elif name == "eligibility_rules":
            value = value or {}
            conditions.validate_rules(value)
        elif name in ("sequential_testing", "regression_adjustment"):
            if not isinstance(value, bool):
                raise ValidationError({name: ["true or false."]})
        elif name == "sequential_tuning":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError({name: ["Enter a whole number: the total sample size you expect."]})
            if not SEQUENTIAL_TUNING_MIN <= value <= SEQUENTIAL_TUNING_MAX:
                raise ValidationError(
                    {name: [f"Must be between {SEQUENTIAL_TUNING_MIN:,} and {SEQUENTIAL_TUNING_MAX:,}."]}
                )
        elif name == "pre_exposure_window_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PRE_EXPOSURE_WINDOW_MAX:
                raise ValidationError({name: [f"Enter a whole number of days from 1 to {PRE_EXPOSURE_WINDOW_MAX}."]})
        elif name == "guardrail_threshold":
            value = _decimal(value, name, Decimal("0.0001"), Decimal("1"), 4)
        cleaned[name] = value
    return cleaned


def _clean_variants(variants: Any) -> list[dict[str, Any]]:
    if not isinstance(variants, list):
        raise ValidationError({"variants": ["Give a list of variants."]})
    errors: dict[str, list[str]] = {}
    cleaned = []
    names = set()
    for i, raw in enumerate(variants):
        where = f"variants[{i}]"
        if not isinstance(raw, dict):
            errors[where] = ["Each variant is an object with name and weight."]
            continue
        unknown = set(raw) - {"name", "weight", "is_control", "config_json", "description"}
        if unknown:
            errors[f"{where}.{sorted(unknown)[0]}"] = ["Unknown field."]
            continue
        name = str(raw.get("name") or "").strip()
        if not name or len(name) > 100:
            errors[f"{where}.name"] = ["Give a name of 1 to 100 characters."]
            continue
        if name in names:
            errors[f"{where}.name"] = ["Variant names must be unique within the experiment."]
            continue
        names.add(name)
        try:
            weight = _decimal(raw.get("weight"), f"{where}.weight", Decimal(0), Decimal(1), 4)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        config = raw.get("config_json")
        if config is not None and not isinstance(config, dict):
            errors[f"{where}.config_json"] = ["A JSON object."]
            continue
        if config is not None and len(json.dumps(config)) > 20_000:
            errors[f"{where}.config_json"] = ["At most 20,000 characters of JSON."]
            continue
        description = raw.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 2000):
            errors[f"{where}.description"] = ["Text of at most 2,000 characters."]
            continue
        cleaned.append(
            {
                "name": name,
                "weight": weight,
                "is_control": bool(raw.get("is_control", False)),
                "config_json": config,
                "description": description,
                "position": len(cleaned),
            }
        )
    if errors:
        # Each message under its precise path, and all of them under "variants" in words.
        summary = [f"Variant {_row(path)}: {m}" for path, messages in errors.items() for m in messages]
        raise ValidationError({"variants": summary, **errors})
    controls = [v for v in cleaned if v["is_control"]]
    if len(controls) > 1:
        raise ValidationError({"variants": ["Exactly one variant is the control."]})
    if cleaned and not controls:
        cleaned[0]["is_control"] = True
    return cleaned


def _row(path: str) -> str:
    """``variants[1].name`` -> ``2 (name)``: the row as people count it."""
    index, _, field = path.removeprefix("variants[").partition("]")
    field = field.lstrip(".")
    return f"{int(index) + 1} ({field})" if field else str(int(index) + 1)


def _audit(
    *,
    experiment: Experiment,
    action: str,
    context: RequestContext | None,
    from_status: str = "",
    to_status: str = "",
    details: dict | None = None,
) -> None:
    """Append to the experiment's history: who did what, through which door, from which status to which."""
    actor = getattr(context, "actor", None)
    ExperimentAuditLog.objects.create(
        experiment=experiment,
        action=action,
        from_status=from_status or "",
        to_status=to_status or "",
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        details={**(details or {}), "source": context.source if context is not None else "system"},
    )


def _invalidate_on_commit(*keys: str) -> None:
    """Every process reloads the definitions once the change commits (``focusedroom.versions``).

    Saves and deletes of experiments and variants do this through
    ``receivers.on_definition_changed``; this covers what sends no signal (a renamed
    key's old entry, bulk-created variants).
    """
    definition_invalidate(*keys)


# -------------------------------------------------------------------- definitions


@transaction.atomic
def experiment_create(
    *, data: dict[str, Any], variants: list[dict[str, Any]] | None = None, context: RequestContext | None = None
) -> Experiment:
    """Create a draft experiment, its variants given in order (the first is the control unless one is marked)."""
    if "name" not in data:
        raise ValidationError({"name": ["This field is required."]})
    fields = _clean_fields(data)
    key = fields.get("key") or slugify(fields["name"])[:100].strip("-")
    if key in RESERVED_KEYS:
        raise ValidationError({"key": [f"'{key}' is reserved; give another key."]})
    if not key:
        raise ValidationError({"key": ["Give a key: the name has no letters or digits to build one from."]})
    if Experiment.objects.filter(key=key).exists():
        raise ValidationError({"key": [f"The key '{key}' is taken; give another one."]})
    fields["key"] = key
    cleaned_variants = _clean_variants(variants or [])
    experiment = Experiment.objects.create(**fields)
    Variant.objects.bulk_create([Variant(experiment=experiment, **v) for v in cleaned_variants])
    _audit(
        experiment=experiment,
        action="created",
        context=context,
        to_status=experiment.status,
        details={"variants": len(cleaned_variants)},
    )
    return experiment


@transaction.atomic
def experiment_update(
    *,
    experiment: Experiment,
    data: dict[str, Any],
    variants: list[dict[str, Any]] | None = None,
    context: RequestContext | None = None,
) -> Experiment:
    """Change an experiment. ``variants`` replaces the list.

    Variants, key, seed and window only change while it is a draft; once started, only the
    variants' descriptions may change (the same variants, with other descriptions).
    """
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    fields = _clean_fields(data, instance=experiment)
    is_draft = experiment.status == ExperimentStatus.DRAFT
    changed = {k: v for k, v in fields.items() if getattr(experiment, k) != v}
    frozen = sorted(set(changed) & DRAFT_ONLY_FIELDS)
    if frozen and not is_draft:
        raise Conflict(
            f"{', '.join(frozen)} cannot change once the experiment has started: it would reassign participants "
            "or change the test after its results were seen.",
            fields={f: ["Only editable while the experiment is a draft."] for f in frozen},
        )
    if changed.get("sequential_testing") is False and not is_draft:
        raise Conflict(
            "A started experiment cannot switch to a fixed-horizon test: its results have been seen, and a "
            "fixed-horizon p-value is only valid for a single look planned in advance.",
            fields={"sequential_testing": ["Only a draft can switch to a fixed-horizon test."]},
        )
    if variants is not None and not is_draft and not _only_descriptions_differ(experiment, variants):
        raise Conflict(
            "Variants and weights of a started experiment cannot change. Stop it and create a new experiment.",
            fields={"variants": ["Only editable while the experiment is a draft."]},
        )
    old_key = experiment.key
    if "key" in changed:
        if not changed["key"] or changed["key"] in RESERVED_KEYS:
            raise ValidationError({"key": ["Give another key (not blank, not reserved)."]})
        if Experiment.objects.filter(key=changed["key"]).exclude(pk=experiment.pk).exists():
            raise ValidationError({"key": [f"The key '{changed['key']}' is taken; give another one."]})
    cleaned_variants = _clean_variants(variants) if variants is not None else None
    for name, value in changed.items():
        setattr(experiment, name, value)
    if changed:
        experiment.save()
    if cleaned_variants is not None and is_draft:
        experiment.variants.all().delete()
        Variant.objects.bulk_create([Variant(experiment=experiment, **v) for v in cleaned_variants])
        changed["variants"] = True
    elif cleaned_variants is not None:
        for variant, wanted in zip(experiment.variants.order_by("position"), cleaned_variants, strict=True):
            if variant.description != wanted["description"]:
                variant.description = wanted["description"]
                variant.save(update_fields=["description", "updated_at"])
                changed["variants"] = True
    if changed:
        _audit(experiment=experiment, action="updated", context=context, details={"changed": sorted(changed)})
    _invalidate_on_commit(old_key, experiment.key)
    return experiment


FROZEN_VARIANT_FIELDS = ("name", "weight", "is_control", "config_json", "position")


def _only_descriptions_differ(experiment: Experiment, variants: Any) -> bool:
    """The same variants as the experiment's (name, weight, control, config, order), descriptions aside."""
    try:
        cleaned = _clean_variants(variants)
    except ValidationError:
        return False
    current = [{f: getattr(v, f) for f in FROZEN_VARIANT_FIELDS} for v in experiment.variants.order_by("position")]
    return current == [{f: v[f] for f in FROZEN_VARIANT_FIELDS} for v in cleaned]


def _validate_start(experiment: Experiment) -> None:
    variants = list(experiment.variants.all())
    errors = []
    if len(variants) < 2:
        errors.append("An experiment needs at least two variants to start.")
    total = sum((v.weight for v in variants), Decimal(0))
    if total != 1:
        errors.append(
            f"Variant weights must sum to 1, i.e. 100 % (they sum to {total}, i.e. {float(total * 100):g} %)."
        )
    if sum(1 for v in variants if v.is_control) != 1:
        errors.append("Exactly one variant must be the control.")
    if errors:
        raise ValidationError({"variants": errors})


TRANSITIONS: dict[str, tuple[set[str], str]] = {
    # action: (allowed from, to)
    "start": ({ExperimentStatus.DRAFT, ExperimentStatus.PAUSED}, ExperimentStatus.RUNNING),
    "pause": ({ExperimentStatus.RUNNING}, ExperimentStatus.PAUSED),
    "stop": ({ExperimentStatus.RUNNING, ExperimentStatus.PAUSED}, ExperimentStatus.STOPPED),
    "archive": ({ExperimentStatus.STOPPED, ExperimentStatus.DRAFT}, ExperimentStatus.ARCHIVED),
}


@transaction.atomic
def experiment_transition(*, experiment: Experiment, action: str, context: RequestContext | None = None) -> Experiment:
    """Move an experiment along ``draft → running → paused ↔ running → stopped → archived``."""
    if action not in TRANSITIONS:
        raise ValidationError({"action": [f"Unknown action; use one of {', '.join(TRANSITIONS)}."]})
    allowed, target = TRANSITIONS[action]
    experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
    current = experiment.status
    if current not in allowed:
        raise Conflict(
            f"Cannot {action} an experiment that is {current}; it must be {' or '.join(sorted(allowed))}.",
            extra={"current_status": current},
        )
    now = timezone.now()
    if action == "start" and current == ExperimentStatus.DRAFT:
        _validate_start(experiment)
        experiment.started_at = now
    if action == "stop":
        experiment.ended_at = now
    if action == "archive":
        experiment.is_active = False
    experiment.status = target
    experiment.save()
    _audit(
        experiment=experiment,
        action="resumed" if action == "start" and current == "paused" else action,
        context=context,
        from_status=current,
        to_status=target,
    )
    return experiment


def experiment_start(*, experiment: Experiment, context: RequestContext | None = None) -> Experiment:
    return experiment_transition(experiment=experiment, action="start", context=context)


def experiment_pause(*, experiment: Experiment, context: RequestContext | None = None) -> Experiment:
    return experiment_transition(experiment=experiment, action="pause", context=context)


def experiment_stop(*, experiment: Experiment, context: RequestContext | None = None) -> Experiment:
    return experiment_transition(experiment=experiment, action="stop", context=context)


def experiment_archive(*, experiment: Experiment, context: RequestContext | None = None) -> Experiment:
    return experiment_transition(experiment=experiment, action="archive", context=context)


# ---------------------------------------------------------------------- assignment


@dataclass(frozen=True)
class Assignment:
    experiment_key: str
    variant: str
    config: dict
    in_experiment: bool
    recorded: bool = False
    forced: bool = False
    reason: str = ""

    def __str__(self) -> str:
        return self.variant

    def as_dict(self) -> dict[str, Any]:
        return {"variant": self.variant, "config": self.config, "in_experiment": self.in_experiment}


def participant_attributes(*, user=None, tracking: dict[str, Any] | None = None) -> dict[str, Any]:
    """What eligibility rules can test: the person's profile, else what the browser told."""
    tracking = tracking or {}
    attrs: dict[str, Any] = {"is_member": user is not None}
    if tracking.get("device_type"):
        attrs["device_type"] = tracking["device_type"]
    if tracking.get("language_code"):
        attrs["language"] = str(tracking["language_code"]).split("-")[0].lower()
    if tracking.get("country_code"):
        attrs["country"] = str(tracking["country_code"]).upper()
    if user is not None:
        attrs["channel"] = user.channel_id
        attrs["is_email_verified"] = user.is_email_verified
        attrs["marketing_opt_in"] = user.marketing_opt_in
        if user.career_stage:
            attrs["career_stage"] = user.career_stage
        if user.country_code:
            attrs["country"] = user.country_code
        if user.age is not None:
            attrs["age"] = user.age
    return attrs


def _control(definition: dict) -> dict:
    return next((v for v in definition["variants"] if v["is_control"]), definition["variants"][0])


def assign(*, definition: dict, participant_key: str, attributes: dict[str, Any]) -> tuple[dict, bool, str]:
    """Pure assignment: ``(variant, counted, reason)``; no database access.

    The variant index comes from GrowthBook's hash v2 of ``seed + participant_key`` and
    the weights' bucket ranges scaled by coverage. Ineligible or out-of-coverage
    participants see the control and are not counted.
    """
    variants = definition["variants"]
    if not conditions.evaluate(definition["eligibility_rules"], attributes):
        return _control(definition), False, "not_eligible"
    bucket = hashing.gb_hash(definition["seed"], participant_key, 2)
    ranges = hashing.bucket_ranges(len(variants), definition["coverage"], [v["weight"] for v in variants])
    index = hashing.choose_variation(bucket, ranges)
    if index < 0:
        return _control(definition), False, "out_of_coverage"
    return variants[index], True, "assigned"


def forced_assignment(*, key: str, variant_name: str) -> Assignment | None:
    """A QA override (``?fr_force=<key>:<variant>``): shown, never recorded."""
    definition = experiment_definition(key=key)
    if definition is None:
        return None
    variant = next((v for v in definition["variants"] if v["name"] == variant_name), None)
    if variant is None:
        return None
    return Assignment(key, variant["name"], variant["config"], False, recorded=False, forced=True, reason="forced")


def parse_force(raw: str | None) -> dict[str, str]:
    """``"key:variant,key2:variant"`` → ``{key: variant}``."""
    forced = {}
    for part in (raw or "").split(","):
        key, sep, name = part.partition(":")
        if sep and key.strip() and name.strip():
            forced[key.strip()] = name.strip()
    return forced


_UPSERT = """
INSERT INTO user_experiment_participation AS p
    (id, user_id, anonymous_id, experiment_id, variant_id, first_exposure_date, was_eligible_at_exposure,
     eligibility_criteria, total_impressions, has_converted, conversion_within_window, created_at, updated_at,
     has_multiple_exposures, identity_merges, device_type, acquisition_channel)
SELECT t.id, t.user_id, t.anonymous_id, t.experiment_id, t.variant_id, t.first_at, t.eligible, t.criteria::jsonb,
       t.n, false, false, t.first_at, t.last_at, false, '[]', t.device_type, t.channel
  FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::uuid[], %s::uuid[], %s::timestamptz[], %s::boolean[],
              %s::text[], %s::integer[], %s::timestamptz[], %s::text[], %s::smallint[])
       AS t(id, user_id, anonymous_id, experiment_id, variant_id, first_at, eligible, criteria, n, last_at,
            device_type, channel)
ON CONFLICT {target}
DO UPDATE SET total_impressions = p.total_impressions + EXCLUDED.total_impressions, updated_at = EXCLUDED.updated_at
RETURNING id, experiment_id, user_id, anonymous_id, variant_id, was_eligible_at_exposure, has_multiple_exposures,
          (xmax = 0) AS inserted
"""


def _record_pre_exposure_traits(new: list[tuple[Any, int | None, str, datetime]]) -> None:
    """Keep, with new participations — ``(participation id, user id, anonymous id, first exposure)``
    each — the Big Five traits measured before their first exposure (if any): segments and
    regression adjustment only use what was known before the exposure. Two reads and at most one
    update for a whole batch."""
    if not new:
        return
    found = engagement_selectors.big_five_traits_before_many(participants=[(u, a, at) for _, u, a, at in new])
    known = [
        Participation(pk=pid, pre_exposure_traits=traits)
        for (pid, *_), traits in zip(new, found, strict=True)
        if traits
    ]
    if known:
        Participation.objects.bulk_update(known, ["pre_exposure_traits"])


_UPSERT_USER = _UPSERT.format(target="(experiment_id, user_id) WHERE user_id IS NOT NULL")
_UPSERT_ANONYMOUS = _UPSERT.format(target="(experiment_id, anonymous_id) WHERE user_id IS NULL")


def _participant(user, anonymous_id: str) -> tuple[Any, str]:
    if user is not None and not getattr(user, "is_authenticated", True):
        user = None
    if user is not None:
        return user, ""
    anonymous_id = (anonymous_id or "").strip()
    if not ANONYMOUS_ID_RE.match(anonymous_id):
        raise ValidationError({"participant.anonymous_id": ["An anonymous id is 8 to 64 letters, digits, '-' or '_'."]})
    return None, anonymous_id


# ------------------------------------------------------------------------ tracking

_TEXT_LIMITS = {
    "page_url": 2000,
    "user_agent": 1000,
    "session_identifier": 200,
    "referrer_source": 200,
    "region": 100,
    "city": 100,
    "screen_resolution": 20,
    "viewport_size": 20,
    "language_code": 10,
    "time_zone": 50,
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
}
_WHOLE_NUMBER_RANGES = {
    "time_on_page": (0, 2_000_000_000),
    "scroll_depth_percent": (0, 100),
    "page_load_time": (0, 2_000_000_000),
}
_CHOICES = {"device_type": DeviceType.values, "connection_type": ConnectionType.values}
_OBJECTS = {"metadata", "conversion_context"}
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")

_COMMON_TRACKING = {"session_identifier", "country_code", "device_type", "utm_source", "utm_medium", "utm_campaign"}
IMPRESSION_TRACKING_FIELDS = frozenset(
    _COMMON_TRACKING
    | {
        "metadata",
        "page_url",
        "user_agent",
        "region",
        "city",
        "screen_resolution",
        "viewport_size",
        "connection_type",
        "language_code",
        "time_zone",
        "time_on_page",
        "scroll_depth_percent",
        "page_load_time",
        "bounce",
    }
)
CONVERSION_TRACKING_FIELDS = frozenset(_COMMON_TRACKING | {"referrer_source", "metadata", "conversion_context"})


def _with_context(tracking: dict[str, Any], context: RequestContext | None, allowed: frozenset[str]) -> dict[str, Any]:
    """What the request itself tells, where the caller did not say: the user agent and the
    device type parsed from it; on a page, also the page's URL and UTM tags (through the
    API the request is not the page the visitor sees, so the client reports those)."""
    if context is None:
        return tracking
    defaults: dict[str, Any] = {}
    if context.user_agent:
        defaults["user_agent"] = context.user_agent
        defaults["device_type"] = context.device_type
    if context.source == "page":
        defaults["page_url"] = context.page_url or None
        defaults.update(context.utm)
    return {**{k: v for k, v in defaults.items() if k in allowed}, **tracking}


def _clean_tracking(tracking: dict[str, Any] | None, allowed: frozenset[str]) -> dict[str, Any]:
    """What a client reports about an exposure or a conversion, checked against the columns' rules."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in (tracking or {}).items():
        if name not in allowed:
            errors[name] = ["Unknown field."]
        elif value is None:
            cleaned[name] = None
        elif name in _TEXT_LIMITS:
            if not isinstance(value, str) or len(value) > _TEXT_LIMITS[name]:
                errors[name] = [f"Text of at most {_TEXT_LIMITS[name]:,} characters."]
            else:
                cleaned[name] = value
        elif name in _WHOLE_NUMBER_RANGES:
            lo, hi = _WHOLE_NUMBER_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                errors[name] = [f"A whole number from {lo:,} to {hi:,}."]
            else:
                cleaned[name] = value
        elif name in _CHOICES:
            if value not in _CHOICES[name]:
                errors[name] = [f"Use one of {', '.join(_CHOICES[name])}."]
            else:
                cleaned[name] = value
        elif name == "country_code":
            if not isinstance(value, str) or not _COUNTRY_RE.match(value):
                errors[name] = ["A two-letter country code (ISO 3166-1), e.g. FR."]
            else:
                cleaned[name] = value.upper()
        elif name in _OBJECTS:
            if not isinstance(value, dict):
                errors[name] = ["A JSON object."]
            else:
                cleaned[name] = value
        elif name == "bounce":
            if not isinstance(value, bool):
                errors[name] = ["true or false."]
            else:
                cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def exposures_buffered() -> bool:
    """Exposures go to the buffer (``experiments.exposure_buffer``), not to the database in the request."""
    return exposure_buffer.enabled()


def exposure_record(
    *,
    key: str,
    user=None,
    anonymous_id: str = "",
    tracking: dict[str, Any] | None = None,
    context: RequestContext | None = None,
    owed: counters.Owed | None = None,
) -> Assignment:
    """Assign the participant and record the exposure (impression + participation upsert).

    ``tracking``: what the client reports (page URL, screen, scroll depth, UTM tags …,
    ``IMPRESSION_TRACKING_FIELDS``); the user agent, device type and — on pages — the page
    URL and UTM tags default to the request's (``context``).

    Sticky: a participant who already has a variant keeps it whatever the current
    weights say. Concurrency-safe: the participation row is upserted in one statement
    against the database's unique indexes, so parallel exposures of one participant
    produce one participation and count every impression.

    With the exposure buffer on (``experiments.exposure_buffer``: Redis configured), nothing is
    written here: the exposure is appended to the stream and ``manage.py exposure_writer`` stores
    it with ``exposures_write`` — the same rows. The answer is then the assignment of the current
    definition (the stored first variant wins in the data; the answer differs from it only for a
    participant first exposed before a change of coverage or eligibility rules). The exposure then
    costs one round trip: the definition this process holds is assigned from, and the append
    checks in the same script that the definitions have not changed since (else they are reloaded
    and the participant assigned again). ``owed``: the request's throttle count, made by that same
    script (``counters.LimitReached`` over the limit, nothing appended); without the buffer, or when
    nothing is appended, the caller counts it (``Owed.settle``).
    """
    tracking = _clean_tracking(
        _with_context(dict(tracking or {}), context, IMPRESSION_TRACKING_FIELDS), IMPRESSION_TRACKING_FIELDS
    )
    if exposures_buffered():
        return _exposure_buffered(key, user, anonymous_id, tracking, owed)
    definition = experiment_definition(key=key)
    outcome = _exposure_outcome(key, definition, user, anonymous_id, tracking)
    if isinstance(outcome, Assignment):
        return outcome
    event, variant, reason = outcome
    with transaction.atomic():
        (stored,) = exposures_write(events=[event])
    chosen = next((v for v in definition["variants"] if v["id"] == stored.variant_id), variant)
    in_experiment = bool(stored.eligible and not stored.multiple)
    return Assignment(key, chosen["name"], chosen["config"], in_experiment, recorded=True, reason=reason)


def _exposure_buffered(
    key: str, user, anonymous_id: str, tracking: dict[str, Any], owed: counters.Owed | None
) -> Assignment:
    """Assign from the definition this process holds and append the exposure only while the shared
    version is still the one it was loaded at (one script, one round trip). When the held copy is out
    of date — or records nothing, which no append would check — assign again from the current
    definitions, read as the synchronous path reads them."""
    held = experiment_definition(key=key, as_held=True)
    if held is not None:
        outcome = _exposure_outcome(key, held, user, anonymous_id, tracking)
        if not isinstance(outcome, Assignment) and exposure_buffer.push(
            outcome[0], definitions_version=definitions_version_held(), owed=owed
        ):
            return _appended(key, outcome)
    outcome = _exposure_outcome(key, experiment_definition(key=key), user, anonymous_id, tracking)
    if isinstance(outcome, Assignment):
        return outcome
    exposure_buffer.push(outcome[0], owed=owed)
    return _appended(key, outcome)


def _appended(key: str, outcome: tuple) -> Assignment:
    event, variant, reason = outcome
    return Assignment(key, variant["name"], variant["config"], event["counted"], recorded=True, reason=reason)


def _exposure_outcome(key: str, definition, user, anonymous_id: str, tracking: dict[str, Any]):
    """What an exposure amounts to under ``definition`` (None: no such experiment): an ``Assignment``
    that records nothing (not running, held out), or the exposure to record — ``(event, variant, reason)``."""
    if definition is None:
        raise NotFound(f"No experiment with key '{key}'.")
    user, anonymous_id = _participant(user, anonymous_id)
    if definition["status"] != ExperimentStatus.RUNNING or not definition["variants"]:
        control = _control(definition) if definition["variants"] else {"name": "", "config": {}}
        return Assignment(key, control["name"], control["config"], False, reason="not_running")
    participant_key = str(user.pk) if user is not None else anonymous_id
    if holdout_member(holdout=definition.get("holdout"), participant_key=participant_key):
        # The brand's holdout is never assigned: it sees the control and nothing is recorded.
        control = _control(definition)
        return Assignment(key, control["name"], control["config"], False, reason="holdout")
    attributes = participant_attributes(user=user, tracking=tracking)
    variant, counted, reason = assign(definition=definition, participant_key=participant_key, attributes=attributes)
    event = {
        "at": timezone.now().isoformat(),
        "experiment": definition["id"],
        "user": user.pk if user is not None else None,
        "anonymous_id": anonymous_id,
        "channel": user.channel_id if user is not None else None,
        "variant": variant["id"],
        "counted": counted,
        "reason": reason,
        "attributes": attributes,
        "tracking": tracking,
    }
    return event, variant, reason


@dataclass(frozen=True)
class StoredExposure:
    variant_id: str  # the participation's (first) variant
    eligible: bool
    multiple: bool
    first: bool  # this exposure created the participation


_IMPRESSION_COLUMNS = (
    "id",
    "user_id",
    "anonymous_id",
    "experiment_id",
    "variant_id",
    "impression_at",
    "is_first_exposure",
    "user_was_eligible",
    "user_eligibility_status",
    "user_context",
    "metadata",
    *sorted(IMPRESSION_TRACKING_FIELDS - {"metadata"}),
)
# Column names are this module's constants, never input.
_IMPRESSION_INSERT = (
    f"INSERT INTO impressions ({', '.join(_IMPRESSION_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_IMPRESSION_COLUMNS))})"
)
_IMPRESSION_COPY = f"COPY impressions ({', '.join(_IMPRESSION_COLUMNS)}) FROM STDIN"


def exposures_write(*, events: list[dict[str, Any]], copy: bool = False) -> list[StoredExposure]:
    """Store exposures (assigned already, in the order they happened): one participation upsert per
    kind of participant (people, visitors) for the whole list, then the impressions — ``INSERT``, or
    ``COPY`` for a batch (``copy=True``). Call inside a transaction. Returns, per event, what was stored.

    The synchronous path calls it with one event, ``manage.py exposure_writer`` with a batch from
    the buffer: the same rows either way. Several exposures of one participant in a batch count as
    one upsert of their number; the first of them is the first exposure (its variant, eligibility
    and time) when the participation is new.
    """
    groups: dict[tuple, list[int]] = {}
    parsed = []
    for i, event in enumerate(events):
        at = datetime.fromisoformat(event["at"]) if isinstance(event["at"], str) else event["at"]
        parsed.append(at)
        who = ("u", event["user"]) if event["user"] is not None else ("a", event["anonymous_id"])
        groups.setdefault((event["experiment"], *who), []).append(i)
    stored_by_group: dict[tuple, tuple] = {}
    with connection.cursor() as cursor:
        for kind, statement in (("u", _UPSERT_USER), ("a", _UPSERT_ANONYMOUS)):
            keys = [k for k in groups if k[1] == kind]
            if not keys:
                continue
            columns: list[list[Any]] = [[] for _ in range(12)]
            for k in keys:
                first = events[groups[k][0]]
                values = (
                    uuid7(),
                    first["user"],
                    first["anonymous_id"] if first["user"] is None else "",
                    first["experiment"],
                    first["variant"],
                    parsed[groups[k][0]],
                    first["counted"],
                    json.dumps({"reason": first["reason"], "attributes": first["attributes"]}, default=str),
                    len(groups[k]),
                    parsed[groups[k][-1]],
                    first["tracking"].get("device_type"),
                    first["channel"],
                )
                for column, value in zip(columns, values, strict=True):
                    column.append(value)
            cursor.execute(statement, columns)
            for pid, experiment_id, user_id, anonymous_id, variant_id, eligible, multiple, new in cursor.fetchall():
                group = (str(experiment_id), kind, user_id if kind == "u" else anonymous_id)
                stored_by_group[group] = (pid, str(variant_id), eligible, multiple, new)
    out: list[StoredExposure | None] = [None] * len(events)
    rows = []
    new_participations = []
    for group, indexes in groups.items():
        pid, variant_id, eligible, multiple, inserted = stored_by_group[group]
        if inserted:
            first = events[indexes[0]]
            new_participations.append((pid, first["user"], first["anonymous_id"], parsed[indexes[0]]))
        for n, i in enumerate(indexes):
            event = events[i]
            is_first = bool(inserted and n == 0)
            tracking = dict(event["tracking"])
            metadata = tracking.pop("metadata", None) or {}
            values = {
                "id": event.get("impression_id") or uuid7(),
                "user_id": event["user"],
                "anonymous_id": event["anonymous_id"] if event["user"] is None else "",
                "experiment_id": event["experiment"],
                "variant_id": variant_id,
                "impression_at": parsed[i],
                "is_first_exposure": is_first,
                "user_was_eligible": eligible,
                "user_eligibility_status": Jsonb(
                    {"reason": event["reason"] if is_first else "returning", "eligible": eligible}
                ),
                "user_context": Jsonb(event["attributes"]),
                "metadata": Jsonb(metadata),
                **{c: tracking.get(c) for c in _IMPRESSION_COLUMNS[11:]},
            }
            if "bounce" not in tracking:
                values["bounce"] = False
            rows.append(tuple(values[c] for c in _IMPRESSION_COLUMNS))
            out[i] = StoredExposure(variant_id, eligible, multiple, is_first)
    _record_pre_exposure_traits(new_participations)
    rows.sort(key=lambda r: r[5])  # in time order, as they happened
    with connection.cursor() as cursor:
        if copy:
            with cursor.cursor.copy(_IMPRESSION_COPY) as stream:
                for row in rows:
                    stream.write_row(row)
        elif len(rows) == 1:
            cursor.execute(_IMPRESSION_INSERT, rows[0])
        else:
            cursor.executemany(_IMPRESSION_INSERT, rows)
    return out  # type: ignore[return-value]


def exposure_stitch_marker(*, user_id: int, anonymous_id: str) -> dict[str, Any]:
    return {"stitch": True, "user": user_id, "anonymous_id": anonymous_id}


@transaction.atomic
def exposures_write_buffered(*, events: list[dict[str, Any]]) -> dict[str, int]:
    """Apply a batch read from the exposure buffer, in order: runs of exposures with
    ``exposures_write(copy=True)``, identity-stitch markers with ``identity_stitch``.

    Exposures carry the ``impression_id`` their buffer entry determines: one already stored (a batch
    written but not acknowledged before a crash) is skipped, so each is written once."""
    from accounts import selectors as accounts_selectors

    ids = [e["impression_id"] for e in events if not e.get("stitch")]
    stored = set(Impression.objects.filter(id__in=ids).values_list("id", flat=True)) if ids else set()
    written = stitched = skipped = 0
    run: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal written
        if run:
            exposures_write(events=run, copy=True)
            written += len(run)
            run.clear()

    for event in events:
        if event.get("stitch"):
            flush()
            user = accounts_selectors.person_get(event["user"])
            if user is not None:
                identity_stitch(user=user, anonymous_id=event["anonymous_id"], _from_buffer=True)
                stitched += 1
        elif event["impression_id"] in stored:
            skipped += 1
        else:
            run.append(event)
    flush()
    return {"exposures": written, "stitches": stitched, "skipped": skipped}


# ------------------------------------------------------------- anonymous participants


# A prepared statement (not built by the ORM on every call): it runs on every exposure that names a new id.
_ANONYMOUS_ID_SEEN = f"SELECT 1 FROM {Participation._meta.db_table} WHERE anonymous_id = %s LIMIT 1"  # noqa: S608


def anonymous_participant(
    *,
    anonymous_id: str = "",
    visitor_token: str = "",
    context: RequestContext | None = None,
    first_exposure: bool = False,
) -> str:
    """The anonymous visitor id a client may act for: only the one it holds.

    Held means: the browser's ``fr_aid`` cookie (``context.visitor_id``), or a ``visitor_token``
    handed out with an exposure. An id nobody has used yet may be named on a first exposure (an SDK
    makes up its own ids); its token comes back with the answer. Anything else is refused, so
    nobody can record exposures or conversions for another visitor's id.
    """
    anonymous_id = (anonymous_id or "").strip()
    if visitor_token:
        proven = visitor_id_from_token(visitor_token)
        if proven is None:
            raise PermissionDenied(
                "This visitor token is not valid.", fields={"participant.visitor_token": ["Invalid."]}
            )
        if anonymous_id and anonymous_id != proven:
            raise PermissionDenied("The visitor token belongs to another anonymous id.")
        return proven
    held = context.visitor_id if context is not None else ""
    if not anonymous_id or anonymous_id == held:
        return anonymous_id or held
    if not ANONYMOUS_ID_RE.match(anonymous_id):
        return anonymous_id  # the service's own check answers with the field message
    # One indexed look-up: has this id taken part in anything? Every impression is written with its
    # participation (``exposures_write``) and stitching clears the id from both, so participations
    # hold every id an impression does — without a probe into every monthly partition of impressions.
    unused = fetch_prepared(_ANONYMOUS_ID_SEEN, [anonymous_id], read=True) is None
    if first_exposure and unused:
        return anonymous_id
    raise PermissionDenied(
        "Only the visitor who holds this anonymous id can act for it: send the visitor_token of its first "
        "exposure, or call from the browser that has its fr_aid cookie.",
        fields={"participant.anonymous_id": ["Not yours."]},
    )


# --------------------------------------------------------------------- conversions


@dataclass(frozen=True)
class ConversionOutcome:
    experiment_key: str
    variant: str
    conversion_id: str
    within_window: bool
    is_first_conversion: bool
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment_key,
            "variant": self.variant,
            "conversion_id": self.conversion_id,
            "within_window": self.within_window,
            "is_first_conversion": self.is_first_conversion,
            "duplicate": self.duplicate,
        }


@transaction.atomic
def conversion_record(
    *,
    conversion_type: str,
    user=None,
    anonymous_id: str = "",
    conversion_value: Decimal | None = None,
    experiment_key: str | None = None,
    details: dict | None = None,
    tracking: dict[str, Any] | None = None,
    idempotency_key: str = "",
    occurred_at: datetime | None = None,
    source: str = "direct",
    context: RequestContext | None = None,
) -> list[ConversionOutcome]:
    """Attribute a conversion to the experiments the participant was exposed to, by first exposure.

    ``details`` is the conversion's own data (stored as is); ``tracking`` what the client
    reports (``CONVERSION_TRACKING_FIELDS``); the device type defaults to the one of the
    request's user agent (``context``).

    For every running or paused experiment the participant takes part in (or only the
    one named): nothing if the conversion happened before the first exposure;
    otherwise a conversion row, counted in the results (and credited in
    ``conversion_attribution``) only within the experiment's conversion window. The
    participation rows are locked in a fixed order, so a repeated ``idempotency_key``
    returns the earlier outcome instead of counting twice.
    """
    conversion_type = (conversion_type or "").strip()
    if not CONVERSION_TYPE_RE.match(conversion_type):
        raise ValidationError(
            {"conversion_type": ["Use 1 to 100 lower-case letters, digits, '_', '-' or '.', e.g. 'signup'."]}
        )
    if conversion_type in BUILT_IN_CONVERSIONS and source != "built_in":
        raise PermissionDenied(
            f"'{conversion_type}' is recorded by FocusedRoom itself when it happens; clients cannot post it.",
            fields={"conversion_type": ["Recorded by FocusedRoom itself."]},
        )
    if conversion_value is not None:
        conversion_value = _decimal(conversion_value, "conversion_value", Decimal(0), Decimal("99999999.99"), 2)
    user, anonymous_id = _participant(user, anonymous_id)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + timedelta(minutes=5):
        raise ValidationError({"occurred_at": ["A conversion cannot happen in the future."]})
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > 100:
        raise ValidationError({"idempotency_key": ["At most 100 characters."]})
    if details is not None and not isinstance(details, dict):
        raise ValidationError({"details": ["A JSON object."]})
    tracking = _clean_tracking(
        _with_context(dict(tracking or {}), context, CONVERSION_TRACKING_FIELDS), CONVERSION_TRACKING_FIELDS
    )

    participations = Participation.objects.select_related("experiment", "variant").filter(
        experiment__status__in=[ExperimentStatus.RUNNING, ExperimentStatus.PAUSED]
    )
    if experiment_key:
        if not Experiment.objects.filter(key=experiment_key).exists():
            raise NotFound(f"No experiment with key '{experiment_key}'.")
        participations = participations.filter(experiment__key=experiment_key)
    participations = (
        participations.filter(user=user)
        if user is not None
        else participations.filter(user__isnull=True, anonymous_id=anonymous_id)
    )
    participations = list(participations.select_for_update(of=("self",)).order_by("experiment_id"))

    outcomes = []
    for p in participations:
        exp = p.experiment
        if idempotency_key:
            existing = Conversion.objects.filter(experiment=exp, idempotency_key=idempotency_key).first()
            if existing is not None:
                outcomes.append(
                    ConversionOutcome(
                        exp.key,
                        p.variant.name,
                        str(existing.pk),
                        existing.conversion_within_window,
                        bool(existing.is_first_conversion_for_experiment),
                        duplicate=True,
                    )
                )
                continue
        if occurred_at < p.first_exposure_date:
            continue
        elapsed = occurred_at - p.first_exposure_date
        within = elapsed <= timedelta(days=exp.conversion_window_days)
        first = not p.has_converted
        conversion = Conversion.objects.create(
            user=user,
            anonymous_id=anonymous_id,
            participation=p,
            variant=p.variant,
            experiment=exp,
            conversion_type=conversion_type,
            details=details,
            created_at=occurred_at,
            conversion_value=conversion_value,
            time_to_convert=int(elapsed.total_seconds()),
            is_first_conversion_for_experiment=first,
            conversion_attribution_source=source,
            conversion_window_days=exp.conversion_window_days,
            original_exposure_date=p.first_exposure_date,
            conversion_eligibility_verified=p.was_eligible_at_exposure and not p.has_multiple_exposures,
            conversion_within_window=within,
            idempotency_key=idempotency_key,
            **tracking,
        )
        if within:
            ConversionAttribution.objects.create(
                user=user,
                anonymous_id=anonymous_id,
                conversion=conversion,
                experiment=exp,
                variant=p.variant,
                time_to_conversion_hours=int(elapsed.total_seconds() // 3600),
                conversion_value_attributed=conversion_value,
            )
        # The row is locked: these values cannot be lost to a concurrent writer.
        p.has_converted = True
        if p.first_conversion_date is None or occurred_at < p.first_conversion_date:
            p.first_conversion_date = occurred_at
        p.conversion_within_window = bool(p.conversion_within_window or within)
        p.save(update_fields=["has_converted", "first_conversion_date", "conversion_within_window", "updated_at"])
        outcomes.append(ConversionOutcome(exp.key, p.variant.name, str(conversion.pk), within, first))
    return outcomes


# ----------------------------------------------------------------- identity stitching


@transaction.atomic
def identity_stitch(*, user, anonymous_id: str, _from_buffer: bool = False) -> dict[str, int]:
    """Move an anonymous visitor's participations, impressions and conversions to the person.

    When the person already takes part in the same experiment, the earlier first
    exposure wins (its variant and date), impressions and conversion flags are merged,
    and — if the two variants differ — the participation is marked as a multiple
    exposure (left out of the results) with the merge recorded in ``identity_merges``.
    """
    anonymous_id = (anonymous_id or "").strip()
    if user is None or not anonymous_id:
        return {"moved": 0, "merged": 0, "conflicts": 0, "impressions": 0}
    if not _from_buffer and exposure_buffer.enabled():
        # Exposures of this visitor may still wait in the buffer: the writer stitches again when it
        # reaches this point of the stream (after them), once the transaction commits.
        marker = exposure_stitch_marker(user_id=user.pk, anonymous_id=anonymous_id)
        transaction.on_commit(lambda: exposure_buffer.push(marker))
    anonymous = list(
        Participation.objects.select_for_update()
        .filter(user__isnull=True, anonymous_id=anonymous_id)
        .order_by("experiment_id")
    )
    moved = merged = conflicts = 0
    if anonymous:
        mine = {
            p.experiment_id: p
            for p in Participation.objects.select_for_update()
            .filter(user=user, experiment_id__in=[p.experiment_id for p in anonymous])
            .order_by("experiment_id")
        }
        now = timezone.now()
        for anon in anonymous:
            own = mine.get(anon.experiment_id)
            if own is None:
                Participation.objects.filter(pk=anon.pk).update(user=user, anonymous_id="", updated_at=now)
                moved += 1
                continue
            conflict = own.variant_id != anon.variant_id
            winner = anon if anon.first_exposure_date < own.first_exposure_date else own
            dates = [d for d in (own.first_conversion_date, anon.first_conversion_date) if d is not None]
            own.identity_merges = [
                *(own.identity_merges or []),
                {
                    "anonymous_id": anonymous_id,
                    "anonymous_variant_id": str(anon.variant_id),
                    "person_variant_id": str(own.variant_id),
                    "anonymous_first_exposure": anon.first_exposure_date.isoformat(),
                    "person_first_exposure": own.first_exposure_date.isoformat(),
                    "kept": "anonymous" if winner is anon else "person",
                    "conflict": conflict,
                    "merged_at": now.isoformat(),
                },
            ]
            own.variant_id = winner.variant_id
            own.first_exposure_date = winner.first_exposure_date
            own.was_eligible_at_exposure = winner.was_eligible_at_exposure
            own.eligibility_criteria = winner.eligibility_criteria
            own.device_type = winner.device_type
            own.acquisition_channel = winner.acquisition_channel
            own.pre_exposure_traits = winner.pre_exposure_traits
            own.total_impressions = (own.total_impressions or 0) + (anon.total_impressions or 0)
            own.has_converted = bool(own.has_converted or anon.has_converted)
            own.first_conversion_date = min(dates) if dates else None
            own.conversion_within_window = bool(own.conversion_within_window or anon.conversion_within_window)
            own.has_multiple_exposures = bool(own.has_multiple_exposures or anon.has_multiple_exposures or conflict)
            Conversion.objects.filter(participation=anon).update(participation=own)
            anon.delete()
            own.save()
            Conversion.objects.filter(participation=own).update(
                conversion_eligibility_verified=own.was_eligible_at_exposure and not own.has_multiple_exposures
            )
            merged += 1
            conflicts += int(conflict)
    anon_rows = Q(user__isnull=True, anonymous_id=anonymous_id)
    impressions = Impression.objects.filter(anon_rows).update(user=user, anonymous_id="")
    Conversion.objects.filter(anon_rows).update(user=user, anonymous_id="")
    ConversionAttribution.objects.filter(anon_rows).update(user=user, anonymous_id="")
    return {"moved": moved, "merged": merged, "conflicts": conflicts, "impressions": impressions}


# ------------------------------------------------------------------------- holdouts


@transaction.atomic
def holdout_save(
    *,
    brand,
    share: Any,
    seed: str | None = None,
    is_active: bool = True,
    context: RequestContext | None = None,
) -> Holdout:
    """Set a brand's holdout: the share of people kept out of every experiment (0–0.5).

    Membership is a hash of the seed and the participant's key (``selectors.holdout_member``):
    raising the share adds people, lowering it releases some, a new seed draws a new holdout.
    People already assigned keep their participation; from now on, holdout members are not
    assigned to any experiment (change the share between experiments).
    """
    if brand is None:
        raise ValidationError({"brand": ["Choose a brand."]})
    share = _decimal(share, "share", Decimal(0), HOLDOUT_SHARE_MAX, 4)
    if not isinstance(is_active, bool):
        raise ValidationError({"is_active": ["true or false."]})
    if seed is not None:
        seed = str(seed).strip()
        if not seed or len(seed) > 100:
            raise ValidationError({"seed": ["Give a seed of 1 to 100 characters."]})
    # One row per brand (unique): created once even by parallel saves, then changed under its lock.
    existing, created = Holdout.objects.get_or_create(brand=brand)
    holdout = Holdout.objects.select_for_update().get(pk=existing.pk)
    before = None if created else (holdout.share, holdout.seed, holdout.is_active)
    if seed is not None:
        holdout.seed = seed
    holdout.share = share
    holdout.is_active = is_active
    holdout.save()
    actor = getattr(context, "actor", None)
    logger.info(
        "holdout of brand %s: %s -> %s by %s through %s",
        brand.pk,
        before,
        (holdout.share, holdout.seed, holdout.is_active),
        getattr(actor, "pk", None),
        context.source if context is not None else "system",
    )
    holdout_invalidate(brand.pk)
    return holdout


@transaction.atomic
def experiment_delete(*, experiment: Experiment, context: RequestContext | None = None) -> None:
    """Delete a draft that never ran; started experiments are archived instead (their data stays).

    The history goes with the experiment, so the deletion is logged (who, through which door).
    """
    experiment = Experiment.objects.select_for_update().filter(pk=experiment.pk).first()
    if experiment is None:
        raise NotFound("This experiment no longer exists.")
    if experiment.status != ExperimentStatus.DRAFT:
        raise Conflict("Only a draft can be deleted; stop and archive a started experiment instead.")
    actor = getattr(context, "actor", None)
    logger.info(
        "experiment %s (%s) deleted by %s through %s",
        experiment.key,
        experiment.pk,
        getattr(actor, "pk", None),
        context.source if context is not None else "system",
    )
    experiment.delete()


def impressions_prune(*, older_than_days: int) -> list[str]:
    """Retention of impressions: drop the months whose impressions are all older than ``older_than_days``.

    Results count participations (``total_impressions``), not these rows, so dropping old months
    changes no result; the console and a person's export show what is kept. Returns the partitions.
    """
    if older_than_days < 1:
        raise ApplicationError("Keep at least one day of impressions.", fields={"older_than": ["Must be at least 1."]})
    cutoff = partitions.retention_cutoff(older_than_days)
    return [d.name for d in partitions.partitions_drop_before(table=Impression._meta.db_table, cutoff=cutoff)]


def impressions_retention() -> list[str] | None:
    """The daily retention job: ``IMPRESSIONS_RETENTION_DAYS`` (0, the default, keeps every impression)."""
    days = settings.IMPRESSIONS_RETENTION_DAYS
    return impressions_prune(older_than_days=days) if days else None
