"""JSON Schemas of the JSON columns, written from seed 003's examples.

``validate_document(field, value)`` raises a Django ``ValidationError`` keyed by the
column whose messages name the path of the offending value, e.g.
``demographics.ageRange.min: -1 is less than the minimum of 0``. The API answers it as
a 400 with ``fields``; the admin shows it next to the field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

STRING = {"type": "string", "maxLength": 1000}
STRINGS = {"type": "array", "items": STRING, "maxItems": 200}
NON_NEGATIVE = {"type": "number", "minimum": 0}


def _range(minimum: float, maximum: float | None = None) -> dict:
    bound: dict[str, Any] = {"type": "number", "minimum": minimum}
    if maximum is not None:
        bound["maximum"] = maximum
    return {
        "type": "object",
        "properties": {"min": bound, "max": bound},
        "additionalProperties": False,
    }


COLOR = {
    "type": "object",
    "required": ["hex"],
    "properties": {
        "name": STRING,
        "hex": {"type": "string", "pattern": "^#(?:[0-9A-Fa-f]{3}){1,2}$"},
        "usage": STRING,
    },
}
COLORS = {"type": "array", "items": COLOR, "maxItems": 100}
PALETTE = {
    "type": "object",
    "properties": {"primary": COLORS, "secondary": COLORS, "accent": COLORS, "neutral": COLORS},
}
TYPE_SIZE = {"type": "string", "pattern": r"^\d+(\.\d+)?(px|pt|rem|em|%)$"}
URL = {"type": "string", "pattern": "^https?://", "maxLength": 2000}

DEMOGRAPHICS = {
    "type": "object",
    "properties": {
        "ageRange": _range(0, 120),
        "gender": {"enum": ["all", "male", "female", "non-binary", "other"]},
        "location": {
            "type": "object",
            "properties": {
                "countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                "states": STRINGS,
                "cities": STRINGS,
                "radius": {
                    "type": "object",
                    "required": ["latitude", "longitude", "radius"],
                    "properties": {
                        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
                        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
                        "radius": {"type": "number", "exclusiveMinimum": 0},
                        "unit": {"enum": ["miles", "kilometers"]},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "incomeRange": _range(0),
        "educationLevel": {
            "enum": ["high_school", "some_college", "associates", "bachelors", "masters", "doctorate", "other"]
        },
        "languages": STRINGS,
        "occupations": STRINGS,
    },
}

BEHAVIOR = {
    "type": "object",
    "properties": {
        "devicePreferences": {"type": "array", "items": {"enum": ["mobile", "desktop", "tablet", "tv", "other"]}},
        "purchaseBehavior": STRINGS,
        "onlineActivityLevel": {"enum": ["low", "moderate", "active", "very_active"]},
        "socialMediaPlatforms": STRINGS,
    },
}

PERSONA = {
    "type": "object",
    "properties": {
        "name": STRING,
        "description": {"type": "string", "maxLength": 5000},
        "motivations": STRINGS,
        "painPoints": STRINGS,
        "values": STRINGS,
        "goals": STRINGS,
    },
}

HIGH_LEVEL_GUIDELINES = {
    "type": "object",
    "properties": {
        "logo": {
            "type": "object",
            "properties": {"primaryLogoUrl": URL, "usageRules": STRINGS},
        },
        "colors": PALETTE,
        "typography": {
            "type": "object",
            "properties": {
                "primaryFont": STRING,
                "secondaryFont": STRING,
                "typeSizes": {"type": "array", "items": TYPE_SIZE},
            },
        },
        "voice": {"type": "object", "properties": {"tone": STRINGS, "doList": STRINGS, "dontList": STRINGS}},
    },
}

FULL_STYLE_GUIDE = {
    "type": "object",
    "properties": {
        "logoGuidelines": {
            "type": "object",
            "properties": {
                "logos": {"type": "array", "items": {"type": "object"}},
                "clearSpace": STRING,
                "minimumSize": {
                    "type": "object",
                    "properties": {
                        "width": {"type": "number", "exclusiveMinimum": 0},
                        "height": {"type": "number", "exclusiveMinimum": 0},
                    },
                },
            },
        },
        "colorPalette": PALETTE,
        "typographyGuidelines": {
            "type": "object",
            "properties": {
                "primaryFont": {"type": "object"},
                "secondaryFont": {"type": "object"},
                "typeScale": {"type": "array"},
            },
        },
        "voiceGuidelines": {
            "type": "object",
            "properties": {
                "brandVoice": STRING,
                "primaryTone": STRINGS,
                "messagingPillars": {"type": "array"},
            },
        },
    },
}

ALERTS = {
    "type": "array",
    "maxItems": 20,
    "items": {
        "type": "object",
        "required": ["threshold"],
        "properties": {
            "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            "enabled": {"type": "boolean"},
            "channels": {"type": "array", "items": {"enum": ["email", "slack", "webhook", "in_app"]}},
            "recipients": STRINGS,
            "message": STRING,
        },
        "additionalProperties": False,
    },
}

METADATA = {
    "type": "object",
    "properties": {
        "tags": STRINGS,
        "notes": {"type": "string", "maxLength": 10000},
        "source": {"enum": ["manual", "imported", "ai_generated", "template", "demo"]},
        "usageCount": {"type": "integer", "minimum": 0},
    },
}

SCHEMAS: dict[str, dict] = {
    "demographics": DEMOGRAPHICS,
    "behavior": BEHAVIOR,
    "persona": PERSONA,
    "high_level_guidelines": HIGH_LEVEL_GUIDELINES,
    "full_style_guide": FULL_STYLE_GUIDE,
    "alerts": ALERTS,
    "metadata": METADATA,
}
VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}
MAX_MESSAGES = 10


def _path(field: str, parts) -> str:
    path = field
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _extra_checks(field: str, value: Any) -> list[tuple[str, str]]:
    """Rules JSON Schema cannot say: ranges with min <= max, distinct alert thresholds."""
    problems: list[tuple[str, str]] = []
    if field == "demographics" and isinstance(value, dict):
        for key in ("ageRange", "incomeRange"):
            bounds = value.get(key)
            if isinstance(bounds, dict) and isinstance(bounds.get("min"), int | float):
                high = bounds.get("max")
                if isinstance(high, int | float) and high < bounds["min"]:
                    problems.append((f"{field}.{key}.max", f"{high} is less than min ({bounds['min']})"))
    if field == "alerts" and isinstance(value, list):
        seen: set[float] = set()
        for i, alert in enumerate(value):
            threshold = alert.get("threshold") if isinstance(alert, dict) else None
            if isinstance(threshold, int | float):
                if threshold in seen:
                    problems.append((f"{field}[{i}].threshold", f"{threshold} appears twice"))
                seen.add(threshold)
    return problems


def document_errors(field: str, value: Any) -> list[str]:
    """Messages ``"<path>: <problem>"`` for ``value`` against the schema of ``field``."""
    validator = VALIDATORS[field]
    errors = sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    messages = [f"{_path(field, e.absolute_path)}: {e.message}" for e in errors[:MAX_MESSAGES]]
    if not messages:
        messages = [f"{path}: {problem}" for path, problem in _extra_checks(field, value)]
    return messages


def validate_document(field: str, value: Any) -> None:
    messages = document_errors(field, value)
    if messages:
        raise ValidationError({field: messages})
