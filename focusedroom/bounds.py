"""What PostgreSQL can hold: the one set of bounds every input is checked against.

* Text and JSON: PostgreSQL's ``text`` refuses the NUL character and ``jsonb`` refuses
  ``\\u0000``; Python strings may also hold lone surrogates (``"\\ud800"`` in JSON) that
  cannot be encoded to UTF-8. :func:`unstorable_path` finds the first such string (or key)
  anywhere in a document.
* Date-times: a UTC offset is less than 16 hours (PostgreSQL's limit) and the instant, in
  UTC, falls between the years 1 and 9999 (what Python reads back). :func:`parse_datetime`
  parses ISO 8601 text into such a value or raises ``ValueError`` with a sentence saying why.
* Numbers: integers within the column's type (``integer`` unless the column says more),
  decimals within the column's ``numeric(p, s)``. :func:`number_error` says what is wrong.

Used by the request middleware (paths, query strings, forms, JSON bodies), the API's
serializer and filter base classes, and a ``pre_save`` guard on every model
(:func:`check_instance`), so a value out of range is a 400 naming the field, never a
database error.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.dateparse import parse_date as django_parse_date
from django.utils.dateparse import parse_datetime as django_parse_datetime

MAX_UTC_OFFSET = dt.timedelta(hours=16)  # exclusive: PostgreSQL refuses +16:00 and beyond
MIN_INSTANT = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
MAX_INSTANT = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)

INTEGER_RANGES = {
    "SmallIntegerField": (-32768, 32767),
    "PositiveSmallIntegerField": (0, 32767),
    "IntegerField": (-2147483648, 2147483647),
    "PositiveIntegerField": (0, 2147483647),
    "BigIntegerField": (-9223372036854775808, 9223372036854775807),
    "PositiveBigIntegerField": (0, 9223372036854775807),
    "AutoField": (1, 2147483647),
    "BigAutoField": (1, 9223372036854775807),
    "SmallAutoField": (1, 32767),
}
INT_MIN, INT_MAX = INTEGER_RANGES["IntegerField"]
BIGINT_MIN, BIGINT_MAX = INTEGER_RANGES["BigIntegerField"]

NUL_MESSAGE = "Contains a character that cannot be stored (NUL or an unpaired surrogate)."
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
OFFSET_MESSAGE = "The UTC offset must be between -15:59 and +15:59."
YEAR_MESSAGE = "Enter a date between the years 1 and 9999."
_OFFSET = re.compile(r"T?\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*[+-](\d{2}):?\d{0,2}$")


# ----------------------------------------------------------------------------- text


def has_unstorable(text: str) -> bool:
    """True when ``text`` holds NUL or a lone surrogate (refused by PostgreSQL or by UTF-8)."""
    return bool(_UNSTORABLE.search(text))


def unstorable_path(value: Any, path: str = "") -> str | None:
    """The path (``a.b[2].c``) of the first string or key in ``value`` that cannot be stored,
    ``""`` for the document itself, ``None`` when everything can be stored."""
    if isinstance(value, dict | list) and _storable_document(value):
        return None
    return _first_unstorable(value, path)


def _storable_document(value: dict | list) -> bool:
    """True when no string or key of the document can hold NUL or a lone surrogate, read from its
    JSON text in one pass of the C encoder instead of a Python walk of every value (a Big Five
    result is some 2,000 of them). The encoder writes NUL as ``\\u0000`` and a lone surrogate as
    itself, so a clean text is a clean document; anything else (such a text, a key or value the
    encoder refuses) is left to the walk, which finds the path — or nothing, as for a literal
    backslash-u-zero text. Values the walk does not look into (numbers, other objects) are written
    as ``null``."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=_nothing, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return "\\u0000" not in text and not has_unstorable(text)


def _nothing(value: Any) -> None:
    return None


def _first_unstorable(value: Any, path: str = "") -> str | None:
    if isinstance(value, str):
        return path if has_unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            key_text = str(key)
            item_path = f"{path}.{key_text}" if path else key_text
            if has_unstorable(key_text):
                return item_path
            found = _first_unstorable(item, item_path)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_unstorable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


# ------------------------------------------------------------------------ date-times


def datetime_error(value: dt.datetime) -> str | None:
    """Why PostgreSQL (or Python reading it back) cannot hold ``value``; ``None`` when it can."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) >= MAX_UTC_OFFSET:
        return OFFSET_MESSAGE
    try:
        instant = value.astimezone(dt.UTC) if offset is not None else value.replace(tzinfo=dt.UTC)
    except OverflowError:
        return YEAR_MESSAGE
    if not MIN_INSTANT <= instant <= MAX_INSTANT:
        return YEAR_MESSAGE
    return None


def parse_datetime(text: str) -> dt.datetime | None:
    """ISO 8601 text -> a date-time PostgreSQL can hold; ``None`` when it is not a date-time
    at all; ``ValueError`` (with the reason) when it looks like one but cannot be."""
    try:
        parsed = django_parse_datetime(text)
    except ValueError:
        offset = _OFFSET.search(text.strip())
        if offset and int(offset.group(1)) >= 16:
            raise ValueError(OFFSET_MESSAGE) from None
        raise ValueError("Not a real date and time (check the day of the month and the hour).") from None
    if parsed is None:
        return None
    problem = datetime_error(parsed)
    if problem:
        raise ValueError(problem)
    return parsed


def parse_date(text: str) -> dt.date | None:
    try:
        return django_parse_date(text)
    except ValueError:
        raise ValueError("Not a real date (check the day of the month).") from None


# --------------------------------------------------------------------------- numbers


def decimal_limit(max_digits: int, decimal_places: int) -> Decimal:
    """The largest value of ``numeric(max_digits, decimal_places)``, e.g. 9999999999999.99."""
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(1).scaleb(-decimal_places)


def format_limit(number: Decimal | int) -> str:
    return f"{number:,}"


def number_error(
    value: Any, *, max_digits: int | None = None, decimal_places: int | None = None, integer_range=None
) -> str | None:
    """Why ``value`` does not fit the column; ``None`` when it does."""
    if value is None or isinstance(value, bool):
        return None
    if integer_range is not None:
        if not isinstance(value, int):
            return None
        low, high = integer_range
        if value < low:
            return f"Ensure this value is at least {format_limit(low)}."
        if value > high:
            return f"Ensure this value is at most {format_limit(high)}."
        return None
    if max_digits is None or not isinstance(value, Decimal | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return "Enter a number."
    if not number.is_finite():
        return "Enter a finite number."
    places = decimal_places or 0
    limit = decimal_limit(max_digits, places)
    too_big = f"Ensure this value is between -{format_limit(limit)} and {format_limit(limit)}."
    if number.adjusted() + 1 > max_digits - places:
        return too_big
    rounded = number.quantize(Decimal(1).scaleb(-places), context=Context(prec=max_digits + 2))
    if abs(rounded) > limit:
        return too_big
    return None


# ---------------------------------------------------------------------- model guard


def _rule(field: models.Field) -> Callable[[Any], str | None] | None:
    """The check a value of ``field`` must pass (why it cannot be stored, or None), or None when the
    database holds any value of it. Decided once per field (``_rules``)."""
    internal = field.get_internal_type()
    if isinstance(field, models.DecimalField) and field.max_digits is not None:
        digits, places = field.max_digits, field.decimal_places
        return lambda value: number_error(value, max_digits=digits, decimal_places=places)
    if internal in INTEGER_RANGES:
        limits = INTEGER_RANGES[internal]
        return lambda value: number_error(value, integer_range=limits)
    if isinstance(field, models.DateTimeField):
        return lambda value: datetime_error(value) if isinstance(value, dt.datetime) else None
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: NUL_MESSAGE if isinstance(value, str) and has_unstorable(value) else None
    if isinstance(field, models.JSONField):
        return lambda value: NUL_MESSAGE if unstorable_path(value) is not None else None
    if internal == "ArrayField":
        return lambda value: (
            NUL_MESSAGE if isinstance(value, list | tuple) and unstorable_path(list(value)) is not None else None
        )
    return None


@functools.cache
def _rules(model: type[models.Model]) -> tuple[tuple[models.Field, Callable[[Any], str | None]], ...]:
    """The fields of ``model`` a value could be refused for, with their checks (a model's fields
    are classified once per process, not on every save)."""
    return tuple(
        (field, rule)
        for field in model._meta.concrete_fields
        if not getattr(field, "generated", False) and (rule := _rule(field)) is not None
    )


def check_instance(instance: models.Model, update_fields=None) -> None:
    """Refuse (``ValidationError`` naming the fields) a row the database could not hold."""
    errors: dict[str, list[str]] = {}
    for field, rule in _rules(type(instance)):
        if update_fields is not None and field.name not in update_fields and field.attname not in update_fields:
            continue
        value = getattr(instance, field.attname, None)
        if value is None or hasattr(value, "resolve_expression"):
            continue
        problem = rule(value)
        if problem:
            errors[field.name] = [problem]
    if errors:
        raise ValidationError(errors)


def guard_pre_save(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw:  # fixtures load as they are
        return
    check_instance(instance, update_fields)
