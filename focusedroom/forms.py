"""The one way a service's refusal becomes a form error (pages and the console)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from focusedroom.errors import ApplicationError


class NormalizedChoiceField(forms.ChoiceField):
    """A choice that also accepts other spellings: ``normalize(text)`` returns the stored value
    or ``None`` (career stages given as labels, any letter case)."""

    def __init__(self, *, normalize, **kwargs):
        self.normalize = normalize
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return (self.normalize(value) or value) if value else value


def error_message(exc: ValidationError | ApplicationError) -> str:
    """A service refusal as one sentence (console messages, list actions)."""
    if isinstance(exc, ApplicationError):
        return exc.message
    return " ".join(exc.messages)


def add_service_errors(form: forms.BaseForm, exc: ValidationError | ApplicationError) -> None:
    """Put a service's refusal on the form: field messages next to their fields, the rest on top."""
    if isinstance(exc, ApplicationError):
        fields = exc.fields or {None: [exc.message]}
    elif hasattr(exc, "error_dict"):
        fields = exc.message_dict
    else:
        fields = {None: exc.messages}
    for field, errors in fields.items():
        form.add_error(field if field in form.fields else None, errors)
