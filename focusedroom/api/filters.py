"""The filter backend of every list endpoint: django-filter with the database's bounds.

A date-time filter (``?created_before=…``) takes only instants PostgreSQL can hold (UTC
offset under 16 hours, years 1–9999) and a number filter only numbers its column can be
compared with; anything else is a 400 naming the parameter, never a database error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django_filters import ChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend

from focusedroom import bounds
from focusedroom.forms import NormalizedChoiceField


class NormalizedChoiceFilter(ChoiceFilter):
    """A choice filter that accepts other spellings (``normalize=`` as for ``NormalizedChoiceField``)."""

    field_class = NormalizedChoiceField


def _check_datetime(value) -> None:
    if isinstance(value, dt.datetime):
        problem = bounds.datetime_error(value)
        if problem:
            raise ValidationError(problem)


def _check_number(value) -> None:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        if not value.is_finite() if isinstance(value, Decimal) else False:
            raise ValidationError("Enter a finite number.")
        if abs(value) > bounds.BIGINT_MAX:
            raise ValidationError(f"Enter a number between -{bounds.BIGINT_MAX:,} and {bounds.BIGINT_MAX:,}.")


def bound_form_field(field: forms.Field) -> None:
    if isinstance(field, forms.DateTimeField) and _check_datetime not in field.validators:
        field.validators.append(_check_datetime)
    elif isinstance(field, forms.DecimalField | forms.IntegerField) and _check_number not in field.validators:
        field.validators.append(_check_number)
    for sub in getattr(field, "fields", ()):  # range filters (MultiValueField)
        bound_form_field(sub)


class BoundedFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for field in filterset.form.fields.values():
                bound_form_field(field)
        return filterset
