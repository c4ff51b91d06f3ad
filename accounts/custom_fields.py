"""Per-brand custom profile fields: definitions, reading a person's answers, saving them.

Values are stored as text: the chosen option for select and radio fields, ``true`` or
``false`` for checkboxes, the text itself (at most 1000 characters) for text fields.
A required checkbox must be checked (consent-style questions); other required fields
must be answered. Saving is a full replacement: fields left out lose their value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from accounts.models import (
    CUSTOM_FIELD_TEXT_MAX_LENGTH,
    CUSTOM_FIELD_TYPES_WITH_OPTIONS,
    DEFAULT_BRAND_SLUG,
    Brand,
    CustomField,
    CustomFieldType,
    CustomFieldValue,
    User,
)
from focusedroom.errors import NotFound

OPTIONS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Custom field options",
    "type": "array",
    "minItems": 1,
    "maxItems": 100,
    "uniqueItems": True,
    "items": {"type": "string", "minLength": 1, "maxLength": 255},
}
_OPTIONS_VALIDATOR = jsonschema.Draft202012Validator(OPTIONS_SCHEMA)


def custom_field_options_clean(*, field_type: str, options: Any) -> list[str] | None:
    """Validate a definition's options against ``OPTIONS_SCHEMA`` (field error on ``field_options``)."""
    if field_type not in CUSTOM_FIELD_TYPES_WITH_OPTIONS:
        if options not in (None, [], ""):
            raise ValidationError({"field_options": ["Only select and radio fields have options."]})
        return None
    errors = sorted(_OPTIONS_VALIDATOR.iter_errors(options), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "".join(f"[{p}]" for p in first.path)
        raise ValidationError({"field_options": [f"Options{where}: {first.message}"]})
    return list(options)


def brand_for_custom_fields(*, slug: str | None) -> Brand:
    brand = Brand.objects.filter(slug=slug or DEFAULT_BRAND_SLUG, is_active=True).first()
    if brand is None:
        raise NotFound(f"Unknown brand {slug!r}.")
    return brand


@dataclass(frozen=True)
class FieldAnswer:
    field: CustomField
    value: str | bool | None  # typed: bool for checkboxes, str otherwise, None when unanswered

    @property
    def key(self) -> str:
        return self.field.field_key


def _typed(field: CustomField, stored: str | None) -> str | bool | None:
    if stored is None:
        return None
    if field.field_type == CustomFieldType.CHECKBOX:
        return stored == "true"
    return stored


def custom_fields_for(*, user: User, brand: Brand) -> list[FieldAnswer]:
    """The brand's active fields in order, each with the person's answer (one query)."""
    value = CustomFieldValue.objects.filter(custom_field=OuterRef("pk"), user=user).values("field_value")[:1]
    fields = (
        CustomField.objects.filter(brand=brand, is_active=True)
        .annotate(current_value=Subquery(value))
        .order_by("field_order", "id")
    )
    return [FieldAnswer(field=f, value=_typed(f, f.current_value)) for f in fields]


def _clean_value(field: CustomField, raw: Any) -> str | None:
    """The text to store, or None for "no answer". Raises ValueError with a message."""
    if field.field_type == CustomFieldType.CHECKBOX:
        if raw is None or raw == "":
            value = False
        elif isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.lower() in {"true", "false", "on", "1", "0"}:
            value = raw.lower() in {"true", "on", "1"}
        else:
            raise ValueError("Must be true or false.")
        if field.is_required and not value:
            raise ValueError("This box must be checked.")
        return "true" if value else "false"
    if raw is None:
        text = ""
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise ValueError("Must be a string.")
    if not text:
        if field.is_required:
            raise ValueError("This field is required.")
        return None
    if field.field_type in CUSTOM_FIELD_TYPES_WITH_OPTIONS:
        if text not in (field.field_options or []):
            raise ValueError(f"Choose one of: {', '.join(field.field_options or [])}.")
    elif len(text) > CUSTOM_FIELD_TEXT_MAX_LENGTH:
        raise ValueError(f"At most {CUSTOM_FIELD_TEXT_MAX_LENGTH} characters.")
    return text


def custom_field_values_clean(*, brand: Brand, values: dict[str, Any]) -> dict[CustomField, str | None]:
    """Validate a whole answer set for the brand's active fields (field errors by key)."""
    if not isinstance(values, dict):
        raise ValidationError({"non_field_errors": ["Send an object mapping field keys to values."]})
    fields = {f.field_key: f for f in CustomField.objects.filter(brand=brand, is_active=True)}
    errors: dict[str, list[str]] = {key: ["Unknown field."] for key in values if key not in fields}
    cleaned: dict[CustomField, str | None] = {}
    for key, field in fields.items():
        try:
            cleaned[field] = _clean_value(field, values.get(key))
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def custom_field_values_set(*, user: User, brand: Brand, values: dict[str, Any]) -> list[FieldAnswer]:
    """Replace the person's answers for the brand's active fields; all or nothing."""
    cleaned = custom_field_values_clean(brand=brand, values=values)
    now = timezone.now()
    answered = [
        CustomFieldValue(user=user, custom_field=field, field_value=value, created_at=now, updated_at=now)
        for field, value in cleaned.items()
        if value is not None
    ]
    unanswered = [field.pk for field, value in cleaned.items() if value is None]
    if answered:
        CustomFieldValue.objects.bulk_create(
            answered,
            update_conflicts=True,
            unique_fields=["user", "custom_field"],
            update_fields=["field_value", "updated_at"],
        )
    if unanswered:
        CustomFieldValue.objects.filter(user=user, custom_field_id__in=unanswered).delete()
    return custom_fields_for(user=user, brand=brand)
