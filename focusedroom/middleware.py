"""Request plumbing: the visitor id cookie, the Content-Security-Policy, refusing what the database cannot hold."""

from __future__ import annotations

import json
import logging
import re

from django.conf import settings
from django.db import DataError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from focusedroom import bounds
from focusedroom.api.errors import error_body
from focusedroom.context import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE, new_visitor_id, valid_visitor_id

logger = logging.getLogger(__name__)


class VisitorIdMiddleware:
    """Sets ``request.visitor_id`` from the ``fr_aid`` cookie, making up one when missing.

    The cookie is only written on responses whose action recorded the id
    (``RequestContext.from_request(..., issue_visitor_id=True)`` or the ``{% experiment %}``
    tag set ``request.visitor_id_used``), so pages that never run an experiment or record
    an anonymous action set no cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cookie = request.COOKIES.get(VISITOR_COOKIE, "")
        is_new = not valid_visitor_id(cookie)
        request.visitor_id = new_visitor_id() if is_new else cookie
        request.visitor_id_used = False
        response = self.get_response(request)
        if is_new and request.visitor_id_used:
            response.set_cookie(
                VISITOR_COOKIE,
                request.visitor_id,
                max_age=VISITOR_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response


def visitor_id(request) -> str:
    """The request's anonymous visitor id, marked used so a new browser gets the cookie."""
    if request is None or not hasattr(request, "visitor_id"):
        return ""
    request.visitor_id_used = True
    return request.visitor_id


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` (``settings.CONTENT_SECURITY_POLICY``) to every response.

    FocusedRoom's pages, the console and the API docs load scripts, styles and images from the
    site itself only, with no inline script or style, so ``default-src 'self'`` holds everywhere.
    An empty setting sends no header.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        from django.conf import settings

        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class StorableInputMiddleware:
    """Refuses, before any view runs, what the database could not hold (``focusedroom.bounds``).

    * a path with NUL (or another character that cannot be stored): 404, as no record has it;
    * a query parameter, a form field or a string anywhere in a JSON body with one: 400 naming
      the parameter or field (``metadata.notes``, ``[2].page_url`` in a batch);
    * a body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413.

    Under ``/api/`` the answer has the API's error shape; elsewhere it is the error page.
    """

    JSON_SUSPECT = re.compile(rb"\x00|\\u0000|\\u[dD][89abcdefABCDEF][0-9a-fA-F]{2}")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Last line: a value the checks above let through and the database refused is still the
        client's mistake (400), not a server error. Logged, so the missing check gets added."""
        if isinstance(exception, DataError):
            logger.warning("Database refused a value on %s %s: %s", request.method, request.path, exception)
            return _answer(request, 400, "out_of_range", "A value is out of the range the database can hold.", {})
        return None

    def refusal(self, request) -> HttpResponse | None:
        if bounds.has_unstorable(request.path):
            return _answer(request, 404, "not_found", "Not found.", {})
        for key, values in request.GET.lists():
            if bounds.has_unstorable(key) or any(bounds.has_unstorable(v) for v in values):
                return _answer(request, 400, "invalid", "A query parameter is invalid.", {key: [bounds.NUL_MESSAGE]})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return _answer(request, 413, "too_large", f"The body is larger than {limit:,} bytes.", {})
        content_type = request.content_type or ""
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and length:
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                return self._form_refusal(request)
            if content_type == "application/json" or content_type.endswith("+json"):
                return self._json_refusal(request)
        return None

    def _form_refusal(self, request) -> HttpResponse | None:
        try:
            items = list(request.POST.lists())
        except Exception:
            return None
        for key, values in items:
            if bounds.has_unstorable(key) or any(isinstance(v, str) and bounds.has_unstorable(v) for v in values):
                return _answer(request, 400, "invalid", "Some fields are invalid.", {key: [bounds.NUL_MESSAGE]})
        return None

    def _json_refusal(self, request) -> HttpResponse | None:
        body = request.body
        if not self.JSON_SUSPECT.search(body):
            return None
        try:
            document = json.loads(body)
        except ValueError:  # not JSON (or a raw NUL in it): the parser answers 400
            return None
        path = bounds.unstorable_path(document)
        if path is None:
            return None
        return _answer(
            request, 400, "invalid", "Some fields are invalid.", {path or "non_field_errors": [bounds.NUL_MESSAGE]}
        )


def _answer(request, status: int, code: str, message: str, fields: dict) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body(status, code, message, fields), status=status)
    template = {404: "404.html", 413: "400.html"}.get(status, "400.html")
    detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in fields.items()) or message
    return render(request, template, {"message": detail}, status=status)
