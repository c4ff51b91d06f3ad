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
from experiments.middleware import visitor_id
from focusedroom.errors import NotFound
from focusedroom.request_context import device_type, user_agent, utm_params

register = template.Library()


def request_context(request) -> dict:
    ua = user_agent(request)
    language = request.META.get("HTTP_ACCEPT_LANGUAGE", "").split(",")[0].split(";")[0].strip()[:10]
    context = {
        "page_url": request.build_absolute_uri()[:2000],
        "user_agent": ua or None,
        "device_type": device_type(ua) if ua else None,
        "language_code": language or None,
        "session_identifier": (request.session.session_key if hasattr(request, "session") else None) or None,
    }
    context.update(utm_params(request))
    return context


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
    try:
        return services.exposure_record(
            key=key,
            user=user,
            anonymous_id="" if user is not None else visitor_id(request),
            context=request_context(request),
        )
    except NotFound:
        return empty
