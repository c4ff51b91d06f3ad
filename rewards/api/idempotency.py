"""``Idempotency-Key`` on POSTs that move gems.

The first request with a key runs inside one transaction that also stores its answer
(status and body) per person; the same key again, from the same person, gets that
answer back (``Idempotent-Replayed: true``) and nothing more is written. Concurrent
requests with one key wait on the database's unique (person, key) index, then replay.
A failed request (4xx) stores nothing: it wrote nothing, so the key may be retried.
"""

from __future__ import annotations

import functools
import hashlib
import json

from django.db import transaction
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from focusedroom.errors import ApplicationError
from rewards import services

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


def request_key(request) -> str:
    key = request.headers.get(HEADER, "").strip()
    if len(key) > 255:
        raise ApplicationError(
            "The Idempotency-Key header is at most 255 characters.", fields={HEADER: ["At most 255 characters."]}
        )
    return key


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(method):
    """Decorate an APIView ``post``: one transaction, replay for a known key."""

    @functools.wraps(method)
    def wrapper(self, request, *args, **kwargs):
        key = request_key(request)
        with transaction.atomic():
            if not key:
                return method(self, request, *args, **kwargs)
            fingerprint = _fingerprint(request)
            record, created = services.idempotency_begin(user=request.user, key=key, fingerprint=fingerprint)
            if not created:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused("This Idempotency-Key was already used for a different request.")
                return Response(
                    record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"}
                )
            response = method(self, request, *args, **kwargs)
            body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
            services.idempotency_finish(record=record, status_code=response.status_code, body=body)
            return response

    return wrapper
