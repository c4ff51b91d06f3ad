"""What a request tells about its client: IP, user agent, device type, UTM tags."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from user_agents import parse as parse_user_agent

DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP; ``X-Forwarded-For`` is trusted only behind a known proxy."""
    if request is None:
        return None
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request: HttpRequest | None) -> str:
    return (request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:1000]


def device_type(ua: str) -> str:
    """desktop, mobile, tablet, bot or other, from a user-agent string (ua-parser rules)."""
    if not ua:
        return "other"
    parsed = parse_user_agent(ua)
    if parsed.is_bot:
        return "bot"
    if parsed.is_tablet:
        return "tablet"
    if parsed.is_mobile:
        return "mobile"
    if parsed.is_pc:
        return "desktop"
    return "other"


def utm_params(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {}
    return {k: request.GET.get(k, "")[:100] for k in ("utm_source", "utm_medium", "utm_campaign") if request.GET.get(k)}
