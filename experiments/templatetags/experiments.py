"""``{% experiment "key" as variant %}``: assign the visitor and record the exposure.

``variant`` is an ``Assignment``: ``{{ variant }}`` / ``{{ variant.variant }}`` is the
variant name, ``{{ variant.config.headline }}`` reads its configuration and
``{{ variant.in_experiment }}`` says whether the visitor is counted. The participant is
the logged-in person, else the anonymous visitor id cookie. ``?fr_force=<key>:<variant>``
shows a variant for QA without recording anything. An unknown key gives an empty
assignment (the template's own default shows).
"""

from __future__ import annotations

from django import template

from experiments import services
from focusedroom.context import RequestContext
from focusedroom.errors import NotFound

register = template.Library()


def exposure_tracking(request) -> dict:
    """What the page request tells beyond its ``RequestContext`` (which gives the user agent,
    device type, page URL and UTM tags): the browser's language and the session."""
    language = request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(",")[0].split(";")[0].strip()[:10]
    session = request.session.session_key if hasattr(request, "session") else None
    return {"language_code": language or None, "session_identifier": session or None}


@register.simple_tag(takes_context=True)
def experiment(context, key: str) -> services.Assignment:
    request = context.get("request")
    empty = services.Assignment(key, "", {}, False, reason="unknown")
    if request is None:
        return empty
    forced = services.parse_force(request.GET.get("fr_force")).get(key)
    if forced:
        assignment = services.forced_assignment(key=key, variant_name=forced)
        if assignment is not None:
            return assignment
    user = request.user if getattr(request, "user", None) is not None and request.user.is_authenticated else None
    request_context = RequestContext.from_request(request, source="page", issue_visitor_id=user is None)
    try:
        return services.exposure_record(
            key=key,
            user=user,
            anonymous_id="" if user is not None else request_context.visitor_id,
            tracking=exposure_tracking(request),
            context=request_context,
        )
    except NotFound:
        return empty
