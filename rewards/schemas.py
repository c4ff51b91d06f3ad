"""JSON Schemas of the rewards JSON blobs, validated at every boundary.

* ``Brand.settings["rewards"]`` — gem amounts, the referral window and review limits of a
  brand (missing keys take the documented defaults, ``REWARD_DEFAULTS``), its expiry rule
  (``expiry``: none, rolling N months, end of a calendar period) and the credits it holds
  as pending (``pending_days``: reason -> days).
* ``AchievementConfig.criteria`` — ``{"metric", "operator", "value", "timeframe"}``.
* ``AchievementConfig.rewards`` — ``{"points", "badge", …}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

REWARD_DEFAULTS: dict[str, int] = {
    "welcome": 100,
    "daily_login": 5,
    "quiz_completed": 25,
    "email_verified": 50,
    "referral_referrer": 200,
    "referral_referee": 100,
    "referral_window_days": 30,
    "referral_ip_window_hours": 24,
    "referral_daily_limit": 10,
}

# Credits a brand may hold as pending for some days before they become spendable.
HOLDABLE_REASONS = ("product_scan", "referral_referrer", "referral_referee")
EXPIRY_PERIODS = ("month", "quarter", "year")

EXPIRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rule"],
    "properties": {
        "rule": {"enum": ["none", "rolling", "period_end"]},
        "months": {"type": "integer", "minimum": 1, "maximum": 120},
        "period": {"enum": list(EXPIRY_PERIODS)},
        "periods": {"type": "integer", "minimum": 1, "maximum": 10},
    },
    "allOf": [
        {"if": {"properties": {"rule": {"const": "rolling"}}}, "then": {"required": ["months"]}},
        {"if": {"properties": {"rule": {"const": "period_end"}}}, "then": {"required": ["period"]}},
    ],
}

_AMOUNT = {"type": "integer", "minimum": 0, "maximum": 1_000_000}

BRAND_REWARDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "welcome": _AMOUNT,
        "daily_login": _AMOUNT,
        "quiz_completed": _AMOUNT,
        "email_verified": _AMOUNT,
        "referral_referrer": _AMOUNT,
        "referral_referee": _AMOUNT,
        "referral_window_days": {"type": "integer", "minimum": 1, "maximum": 3650},
        "referral_ip_window_hours": {"type": "integer", "minimum": 0, "maximum": 8760},
        "referral_daily_limit": {"type": "integer", "minimum": 0, "maximum": 100_000},
        "expiry": EXPIRY_SCHEMA,
        "pending_days": {
            "type": "object",
            "additionalProperties": False,
            "properties": {reason: {"type": "integer", "minimum": 0, "maximum": 365} for reason in HOLDABLE_REASONS},
        },
    },
}

# metric -> the achievement types that may use it
METRICS: dict[str, str] = {
    "scan_count": "scan_count",
    "purchase_amount": "purchase_amount",
    "referral_count": "referral_count",
    "wishlist_items": "wishlist_items",
    "achievements_unlocked": "achievement_unlocked",
    "event_count": "custom",
}
OPERATORS = (">=", ">", "==")
TIMEFRAMES = ("all_time", "day", "week", "month", "year")

CRITERIA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["metric", "operator", "value"],
    "properties": {
        "metric": {"enum": list(METRICS)},
        "operator": {"enum": list(OPERATORS)},
        "value": {"type": "number", "minimum": 0, "maximum": 1_000_000_000},
        "timeframe": {"enum": list(TIMEFRAMES)},
        "event_type": {"type": "string", "minLength": 1, "maxLength": 64},
    },
    "if": {"properties": {"metric": {"const": "event_count"}}},
    "then": {"required": ["event_type"]},
}

ACHIEVEMENT_REWARDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "points": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        "badge": {"type": "string", "maxLength": 100},
        "multiplier": {"type": "number", "minimum": 1, "maximum": 5},
        "exclusive_access": {"type": "boolean"},
    },
}


def validate_json(value: Any, schema: dict[str, Any], *, field: str) -> None:
    """Raise a field-level ``ValidationError`` listing every schema violation."""
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        messages = []
        for err in errors:
            where = "/".join(str(p) for p in err.path)
            messages.append(f"{where}: {err.message}" if where else err.message)
        raise ValidationError({field: messages})


def check_criteria(*, achievement_type: str, criteria: dict[str, Any]) -> None:
    """The criteria's metric must measure what the achievement type says."""
    metric = criteria.get("metric") if isinstance(criteria, dict) else None
    if metric in METRICS and METRICS[metric] != achievement_type:
        expected = [m for m, t in METRICS.items() if t == achievement_type]
        raise ValidationError({"criteria": [f"A {achievement_type} achievement uses the metric {expected[0]!r}."]})


def validate_brand_settings(settings: Any) -> None:
    """Validate the ``rewards`` part of ``Brand.settings`` (other keys belong to other apps)."""
    if not isinstance(settings, dict):
        raise ValidationError({"settings": ["Brand settings are a JSON object."]})
    if "rewards" in settings:
        try:
            validate_json(settings["rewards"], BRAND_REWARDS_SCHEMA, field="settings")
        except ValidationError as exc:
            raise ValidationError({"settings": [f"rewards: {m}" for m in exc.message_dict["settings"]]}) from None


def reward_settings(brand) -> dict[str, int]:
    """The brand's amounts, defaults filled in. Stored settings were validated on save."""
    stored = (brand.settings or {}).get("rewards") if brand is not None else None
    merged = dict(REWARD_DEFAULTS)
    if isinstance(stored, dict):
        merged.update({k: v for k, v in stored.items() if k in REWARD_DEFAULTS and isinstance(v, int)})
    return merged


def expiry_rule(brand) -> dict[str, Any]:
    """The brand's expiry rule (``{"rule": "none"}`` when it has none). Stored settings were validated on save."""
    stored = (brand.settings or {}).get("rewards") if brand is not None else None
    rule = stored.get("expiry") if isinstance(stored, dict) else None
    return rule if isinstance(rule, dict) and rule.get("rule") in ("rolling", "period_end") else {"rule": "none"}


def pending_days(brand, reason: str) -> int:
    """How many days the brand holds a credit of this reason as pending (0: spendable at once)."""
    stored = (brand.settings or {}).get("rewards") if brand is not None else None
    days = stored.get("pending_days") if isinstance(stored, dict) else None
    value = days.get(reason, 0) if isinstance(days, dict) and reason in HOLDABLE_REASONS else 0
    return value if isinstance(value, int) and value > 0 else 0
