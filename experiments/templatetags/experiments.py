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


def exposure_details(request, ctx: RequestContext) -> dict:
    language = request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(",")[0].split(";")[0].strip()[:10]
    details = {
        "page_url": ctx.page_url,
        "user_agent": ctx.user_agent or None,
        "device_type": ctx.device_type or None,
        "language_code": language or None,
        "session_identifier": (request.session.session_key if hasattr(request, "session") else None) or None,
    }
    details.update(ctx.utm)
    return details


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
    ctx = RequestContext.from_request(request, issue_visitor_id=user is None)
    try:
        return services.exposure_record(
            key=key,
            user=user,
            anonymous_id="" if user is not None else ctx.visitor_id,
            context=exposure_details(request, ctx),
        )
    except NotFound:
        return empty
