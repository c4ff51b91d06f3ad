"""Inbound webhooks: ``/api/v1/webhooks/customerio/`` and ``/api/v1/webhooks/kit/``.

Plain Django views: the signature covers the raw bytes of the body, which must be read
before anything parses it. No session, no CSRF (the signature authenticates the sender).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from focusedroom.api.errors import error_body
from focusedroom.context import client_ip
from integrations import webhooks

MAX_BODY = 1_000_000


def _answer(outcome: webhooks.Outcome) -> JsonResponse:
    if outcome.status == 401:
        return JsonResponse(error_body(401, "invalid_signature", outcome.message), status=401)
    if outcome.status >= 400:
        return JsonResponse(error_body(outcome.status, "invalid", outcome.message), status=outcome.status)
    log = outcome.log
    return JsonResponse(
        {
            "status": "duplicate" if outcome.duplicate else ("processed" if log.processed_successfully else "ignored"),
            "message": outcome.message,
        }
    )


def _too_big(request: HttpRequest) -> JsonResponse | None:
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY:
        return JsonResponse(error_body(413, "too_large", "The body is too large."), status=413)
    return None


@csrf_exempt
@require_POST
def customerio_webhook(request: HttpRequest) -> JsonResponse:
    refused = _too_big(request)
    if refused:
        return refused
    outcome = webhooks.customerio_receive(
        body=request.body,
        timestamp=request.headers.get("X-CIO-Timestamp"),
        signature=request.headers.get("X-CIO-Signature"),
        source_address=client_ip(request),
    )
    return _answer(outcome)


@csrf_exempt
@require_POST
def kit_webhook(request: HttpRequest) -> JsonResponse:
    refused = _too_big(request)
    if refused:
        return refused
    outcome = webhooks.kit_receive(
        body=request.body, header=request.headers.get("X-Kit-Signature"), source_address=client_ip(request)
    )
    return _answer(outcome)
