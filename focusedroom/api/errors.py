"""One error shape for every 4xx answer of the API.

    {"error": {"status": 400, "code": "invalid", "message": "…", "fields": {"email": ["…"]}}}

``fields`` maps a field name (or ``non_field_errors``, or a nested path) to a list of
messages; it is empty when no field is to blame. Some errors add keys of their own
(``current_version`` for a 409 version conflict, ``index`` for a rejected batch item).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from focusedroom.errors import ApplicationError

DEFAULT_MESSAGES = {
    400: "The request is invalid.",
    401: "Authentication is required.",
    403: "You do not have permission to do this.",
    404: "Not found.",
    405: "Method not allowed.",
    406: "Not acceptable.",
    409: "Conflict with the current state.",
    415: "Unsupported media type.",
    429: "Too many requests. Try again later.",
}


def error_body(status_code: int, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    body = {"status": status_code, "code": code, "message": message, "fields": fields or {}}
    body.update(extra)
    return {"error": body}


def _flatten(detail):
    """DRF error detail -> plain JSON (lists of strings, nested dicts kept)."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        return Response(
            error_body(409, "protected", "This record is still referenced by other records and cannot be deleted."),
            status=409,
        )
    elif isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.status_code, exc.code, exc.message, exc.fields, **exc.extra), status=exc.status_code
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = status.HTTP_400_BAD_REQUEST if response.status_code == 400 else response.status_code
    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten(exc.detail)
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        first = next(iter(fields.values()), None)
        message = DEFAULT_MESSAGES[400]
        if isinstance(first, list) and first and isinstance(first[0], str):
            message = first[0] if list(fields) == ["non_field_errors"] else "Some fields are invalid."
        response.data = error_body(code, "invalid", message, fields)
    else:
        detail = getattr(exc, "detail", None)
        message = str(detail) if isinstance(detail, str) else DEFAULT_MESSAGES.get(code, "Error.")
        exc_code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
        response.data = error_body(code, str(exc_code), message)
    return response
