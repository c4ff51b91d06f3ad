"""Errors that services raise and that views turn into clear 4xx answers.

Services raise ``django.core.exceptions.ValidationError`` for bad input (with a
field -> messages dict when a field is to blame) and these for the other cases.
"""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str, *, fields: dict | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}


class InvalidCredentials(ApplicationError):
    """Wrong email or password (400 ``invalid_credentials``; never says which one was wrong)."""

    code = "invalid_credentials"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"
