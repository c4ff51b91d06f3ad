"""Project-wide pages: home, health check and error pages.

Error pages answer JSON in the API's error shape under ``/api/`` and HTML elsewhere.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from focusedroom.api.errors import DEFAULT_MESSAGES, error_body

FAVICON = (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``: browsers ask for it on every site, whatever the page links (a day in caches)."""
    response = HttpResponse(FAVICON, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with ``{"status": "ok"}`` when the database answers, 503 otherwise."""
    started = time.monotonic()
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        connections["default"].close_if_unusable_or_obsolete()
        return JsonResponse(
            {"status": "error", "checks": {"database": {"status": "unavailable", "error": exc.__class__.__name__}}},
            status=503,
        )
    elapsed_ms = round((time.monotonic() - started) * 1000, 2)
    return JsonResponse({"status": "ok", "checks": {"database": {"status": "ok", "latency_ms": elapsed_ms}}})


def _error(request: HttpRequest, status: int, code: str, template: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(status, code, DEFAULT_MESSAGES.get(status, "Server error.")), status=status)
    return render(request, template, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", "400.html")


def permission_denied(request, exception=None):
    return _error(request, 403, "permission_denied", "403.html")


def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", "404.html")


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, "server_error", "Something went wrong on our side."), status=500)
    return render(request, "500.html", status=500)
