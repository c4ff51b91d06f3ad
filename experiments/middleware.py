"""The anonymous visitor id: a first-party cookie that identifies a browser before the person does."""

from __future__ import annotations

import re
import uuid

VISITOR_COOKIE = "fr_aid"
VISITOR_COOKIE_MAX_AGE = 60 * 60 * 24 * 365
_VALID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class VisitorIdMiddleware:
    """Sets ``request.visitor_id`` from the ``fr_aid`` cookie, issuing one when missing.

    The cookie is only written on responses that used the id (``request.visitor_id_used``),
    so pages that never run an experiment or record an anonymous action set no cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cookie = request.COOKIES.get(VISITOR_COOKIE, "")
        is_new = not _VALID.match(cookie)
        request.visitor_id = uuid.uuid4().hex if is_new else cookie
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
    """The request's anonymous visitor id (marks it used so the cookie is set)."""
    if request is None or not hasattr(request, "visitor_id"):
        return ""
    request.visitor_id_used = True
    return request.visitor_id
