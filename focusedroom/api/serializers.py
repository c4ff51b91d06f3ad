"""Base classes of every API input serializer: strict input, seed aliases, database bounds.

``StrictSerializer`` (and ``StrictModelSerializer`` for model serializers that also take
input) refuse what they would otherwise drop without a word:

* an unknown field is a 400 naming it, with the closest known field when one is close
  (``{"customer_profile_idd": ["Unknown field. Did you mean customer_profile?"]}``);
* a read-only field sent in a request is a 400 too (it would be ignored);
* ``aliases`` maps other names a client may send to the field they mean — seed 003's column
  names where the API renames them (``{"customer_profile_id": "customer_profile"}``); sending
  both the alias and the field is refused;
* every date-time is one PostgreSQL can hold (``focusedroom.bounds``), and an integer field
  without explicit bounds is bounded by PostgreSQL's ``integer``.

Nested serializers built on these classes are checked the same way (errors keep the path).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from focusedroom import bounds


def suggestion(name: str, candidates) -> str | None:
    """The closest candidate to a mistyped field name, if one is close enough."""
    candidates = list(candidates)
    lowered = name.lower()
    for candidate in candidates:
        if candidate.lower() == lowered or candidate.replace("_", "") == lowered.replace("_", ""):
            return candidate
    if lowered.endswith("_id") and lowered[:-3] in candidates:
        return lowered[:-3]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _check_datetime(value) -> None:
    problem = bounds.datetime_error(value)
    if problem:
        raise serializers.ValidationError(problem)


def bound_field(field: serializers.Field) -> serializers.Field:
    """Add the database's bounds to a field that does not state narrower ones."""
    if isinstance(field, serializers.DateTimeField) and _check_datetime not in field.validators:
        field.validators.append(_check_datetime)
    elif isinstance(field, serializers.IntegerField) and not getattr(field, "_bounded", False):
        field._bounded = True
        if field.max_value is None:
            field.max_value = bounds.INT_MAX
            field.validators.append(MaxValueValidator(bounds.INT_MAX))
        if field.min_value is None:
            field.min_value = bounds.INT_MIN
            field.validators.append(MinValueValidator(bounds.INT_MIN))
    elif isinstance(field, serializers.ListSerializer | serializers.ListField) and getattr(field, "child", None):
        bound_field(field.child)
    return field


class StrictInputMixin:
    """Refuses unknown and read-only fields, resolves ``aliases``, bounds dates and integers."""

    aliases: ClassVar[dict[str, str]] = {}

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            bound_field(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            data = self.resolve_names(data)
        return super().to_internal_value(data)

    def resolve_names(self, data: Mapping) -> Mapping:
        fields = self.fields
        errors: dict[str, list[str]] = {}
        renames: dict[str, str] = {}
        for key in data:
            field = fields.get(key)
            if field is not None:
                if field.read_only:
                    errors[key] = ["This field is read-only: it cannot be set here."]
                continue
            target = self.aliases.get(key)
            if target is not None and target in fields:
                if target in data:
                    errors[key] = [f"Send either {target} or {key} (its other name), not both."]
                else:
                    renames[key] = target
                continue
            writable = [name for name, field in fields.items() if not field.read_only]
            close = suggestion(str(key), [*writable, *(a for a, t in self.aliases.items() if t in fields)])
            close = self.aliases.get(close, close) if close else None  # suggest the API's own name
            errors[str(key)] = [f"Unknown field. Did you mean {close}?" if close else "Unknown field."]
        if errors:
            raise serializers.ValidationError(errors)
        if not renames:
            return data
        if isinstance(data, QueryDict):
            renamed = data.copy()
            for old, new in renames.items():
                renamed.setlist(new, renamed.pop(old))
            return renamed
        return {renames.get(key, key): value for key, value in data.items()}


class StrictSerializer(StrictInputMixin, serializers.Serializer):
    """Base of every API input serializer."""


class StrictModelSerializer(StrictInputMixin, serializers.ModelSerializer):
    """Base of model serializers that also take input (staff CRUD)."""


class NormalizedChoiceField(serializers.ChoiceField):
    """A choice that also accepts other spellings: ``normalize(text)`` returns the stored value
    or ``None`` (e.g. career stages given as the seed's labels, any letter case)."""

    def __init__(self, *, normalize, **kwargs):
        self.normalize = normalize
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip():
            value = self.normalize(data)
            if value is not None:
                return value
        return super().to_internal_value(data)


class DocumentField(serializers.JSONField):
    """A JSON document of a known shape. ``document_schema`` (a JSON Schema, the one the service
    validates against) documents it in the OpenAPI schema; the service checks it."""

    def __init__(self, *, document_schema: dict, **kwargs):
        self.document_schema = document_schema
        super().__init__(**kwargs)


class FieldsBuiltOnceMixin:
    """For a serializer on a hot path: its fields are built and bound once per class, to a template
    instance, and every instance without a context of its own shares them. Building them (from the
    model, or by deep-copying the declared fields) and binding them on every instance is most of the
    cost of a small read (``GET /api/v1/me/``) and of validating a small body (an exposure).

    Sharing is safe because a bound field keeps no state of its own between calls: representing a
    value reads it, validating one reads its arguments and, through its root, the serializer's
    ``partial`` and context. So an instance given a context or ``partial=True`` builds its own fields
    as DRF does. Only for serializers whose fields do not depend on the instance or the data.

    With shared fields, a JSON body is validated over the fields it sends and those DRF validates
    when left out (required ones, those with a default): DRF would look up each optional field the
    body leaves out and skip it with an exception — 20 of the exposure's 22."""

    @cached_property
    def fields(self):
        if self._context or self.partial:
            return super().fields
        cls = type(self)
        shared = cls.__dict__.get("_fields_bound_once")
        if shared is None:
            template = cls()
            shared = BindingDict(template)
            for name, field in super(FieldsBuiltOnceMixin, template).get_fields().items():
                shared[name] = field
            cls._fields_bound_once = shared
            cls._fields_skipped_when_absent = frozenset(
                name for name, field in shared.items() if _skipped_when_absent(field)
            )
            cls._writable_bound_once = tuple((name, f) for name, f in shared.items() if not f.read_only)
            cls._read_only_with_default = any(
                f.read_only and f.default is not serializers.empty for f in shared.values()
            )
        return shared

    def _shares_fields(self) -> bool:
        return self.fields is type(self).__dict__.get("_fields_bound_once")

    def to_internal_value(self, data):
        # A JSON body names a few of many optional fields: the others would each be looked up and
        # skipped by DRF with an exception. With shared fields, they are left out of the loop instead.
        if type(data) is dict and self._shares_fields():
            aliases = getattr(self, "aliases", {})
            self._fields_sent = {aliases.get(key, key) for key in data}
        return super().to_internal_value(data)

    @property
    def _writable_fields(self):
        if not self._shares_fields():
            yield from super()._writable_fields
            return
        sent = self.__dict__.get("_fields_sent")
        skipped = type(self)._fields_skipped_when_absent if sent is not None else frozenset()
        for name, field in type(self)._writable_bound_once:
            if name not in skipped or name in sent:
                yield field

    def _read_only_defaults(self):
        # DRF looks through every field for read-only ones with a default; the shared ones were looked at once.
        if self._shares_fields() and not type(self)._read_only_with_default:
            return {}
        return super()._read_only_defaults()


# How DRF's fields read a value from a JSON object: ``data.get(field_name, empty)`` (other branches are
# for form data). A field that reads its value otherwise is always validated.
_PLAIN_GET_VALUE = frozenset(
    {
        serializers.Field.get_value,
        serializers.DictField.get_value,
        serializers.ListField.get_value,
        serializers.JSONField.get_value,
        serializers.Serializer.get_value,
    }
)


def _skipped_when_absent(field: serializers.Field) -> bool:
    """DRF skips this field when a (non-partial) body leaves it out: optional, no default, the usual
    reading and empty-value rules."""
    cls = type(field)
    return (
        not field.required
        and field.default is serializers.empty
        and cls.get_value in _PLAIN_GET_VALUE
        and cls.validate_empty_values is serializers.Field.validate_empty_values
    )
