"""Request plumbing: the anonymous visitor id cookie."""

from __future__ import annotations

from focusedroom.context import VISITOR_COOKIE, VISITOR_COOKIE_MAX_AGE, new_visitor_id, valid_visitor_id


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
