"""What a service knows about the act it performs: who acts, from where, through which door.

Services never receive an ``HttpRequest``. A view, an API view, a console action or a
command builds a :class:`RequestContext` and passes it down, so the same service can be
called from a page, the API, the console, a command or a background task:

    context = RequestContext.from_request(request, source="api")
    bigfive_submit(data=cleaned, context=context)

    context = RequestContext.system(source="command")        # management commands, tasks

The client address comes from :func:`client_ip`, the one place that decides which
forwarded headers to believe.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from user_agents import parse as parse_user_agent

DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")
SOURCES = ("page", "api", "console", "command", "task", "webhook", "system")

# First-party cookies read by the plumbing: the anonymous visitor id and a referral code.
VISITOR_COOKIE = "fr_aid"
VISITOR_COOKIE_MAX_AGE = 60 * 60 * 24 * 365
REFERRAL_COOKIE = "fr_ref"
REFERRAL_COOKIE_MAX_AGE = 30 * 24 * 60 * 60
_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_REFERRAL_CODE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP. ``X-Forwarded-For`` is believed only from configured proxies.

    With ``TRUSTED_PROXY_COUNT = n`` (n proxies of ours in front of the app), the client is
    the n-th address from the right of ``X-Forwarded-For``: addresses further left were
    written by the client and can be anything. With no trusted proxy the header is ignored.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return remote
    return hops[-count] or remote


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


def _clip(value: str, limit: int) -> str:
    return (value or "")[:limit]


@dataclass(frozen=True)
class RequestContext:
    """Who acts, from where and through which door (``source``)."""

    source: str = "system"
    actor: Any = None  # the person acting (the member, a staff member), None for the system
    ip: str | None = None
    user_agent: str = ""
    referrer: str = ""
    page_url: str = ""
    visitor_id: str = ""  # the anonymous ``fr_aid`` id of the browser, "" when unknown
    referral_code: str = ""  # from the ``fr_ref`` cookie
    utm: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    visitor_id_is_new: bool = False  # the visitor id was made up for this request: nothing was recorded under it yet

    @property
    def device_type(self) -> str:
        return device_type(self.user_agent) if self.user_agent else ""

    @property
    def actor_is_staff(self) -> bool:
        return bool(getattr(self.actor, "is_staff", False))

    @property
    def is_interactive(self) -> bool:
        """A person acting on a page or through the API (not a command, a task or a webhook)."""
        return self.source in ("page", "api")

    def with_actor(self, actor: Any) -> RequestContext:
        return replace(self, actor=actor)

    @classmethod
    def system(cls, *, source: str = "system", actor: Any = None) -> RequestContext:
        return cls(source=source, actor=actor)

    @classmethod
    def from_request(
        cls, request: HttpRequest, *, source: str = "page", issue_visitor_id: bool = False
    ) -> RequestContext:
        """The context of an HTTP request (a DRF request works too: its ``_request`` is used).

        ``issue_visitor_id``: the action records the anonymous visitor id, so a new browser
        gets the ``fr_aid`` cookie with the response (see ``focusedroom.middleware``).
        """
        request = getattr(request, "_request", request)
        user = getattr(request, "user", None)
        actor = user if getattr(user, "is_authenticated", False) else None
        cookie = request.COOKIES.get(VISITOR_COOKIE, "")
        visitor_is_new = False
        if _VISITOR_ID.match(cookie):
            visitor = cookie
        elif issue_visitor_id and getattr(request, "visitor_id", ""):
            visitor = request.visitor_id  # new browser: the middleware sets the cookie
            request.visitor_id_used = True
            visitor_is_new = True
        else:
            visitor = ""
        referral = request.COOKIES.get(REFERRAL_COOKIE, "").strip()
        utm = {k: _clip(request.GET.get(k, ""), 100) for k in UTM_KEYS if request.GET.get(k)}
        try:
            page_url = request.build_absolute_uri()
        except Exception:  # a host the settings refuse: no URL rather than an error
            page_url = ""
        return cls(
            source=source,
            actor=actor,
            ip=client_ip(request),
            user_agent=_clip(request.META.get("HTTP_USER_AGENT", ""), 1000),
            referrer=_clip(request.META.get("HTTP_REFERER", ""), 2000),
            page_url=_clip(page_url, 2000),
            visitor_id=visitor,
            referral_code=referral if _REFERRAL_CODE.match(referral) else "",
            utm=MappingProxyType(utm),
            visitor_id_is_new=visitor_is_new,
        )

    def as_payload(self) -> dict[str, Any]:
        """The context as JSON-serialisable data, for a task that acts on the same act later (the
        actor by id; see :meth:`from_payload`)."""
        return {
            "source": self.source,
            "actor_id": getattr(self.actor, "pk", None),
            "ip": self.ip,
            "user_agent": self.user_agent,
            "referrer": self.referrer,
            "page_url": self.page_url,
            "visitor_id": self.visitor_id,
            "referral_code": self.referral_code,
            "utm": dict(self.utm),
            "visitor_id_is_new": self.visitor_id_is_new,
        }

    def sealed(self) -> str:
        """:meth:`as_payload` encrypted with the field-encryption keys: what a job carries, so the job
        table holds no address, user agent or visitor id in clear (see :meth:`from_sealed`)."""
        from focusedroom.fields import encrypt_value

        return encrypt_value(json.dumps(self.as_payload()))

    @classmethod
    def from_sealed(cls, token: str | None) -> RequestContext | None:
        if not token:
            return None
        from focusedroom.fields import decrypt_value

        return cls.from_payload(json.loads(decrypt_value(token)))

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any] | None) -> RequestContext | None:
        """The context :meth:`as_payload` described (the actor loaded again; None when they are gone)."""
        if payload is None:
            return None
        data = dict(payload)
        actor_id = data.pop("actor_id", None)
        actor = None
        if actor_id is not None:
            from django.contrib.auth import get_user_model

            actor = get_user_model()._base_manager.filter(pk=actor_id).first()
        data["utm"] = MappingProxyType(dict(data.get("utm") or {}))
        known = {f for f in cls.__dataclass_fields__ if f != "actor"}
        return cls(actor=actor, **{k: v for k, v in data.items() if k in known})


def new_visitor_id() -> str:
    return uuid.uuid4().hex


VISITOR_TOKEN_SALT = "focusedroom.visitor-token"  # noqa: S105 - a signing namespace, not a secret


def visitor_token(visitor_id: str) -> str:
    """A signed token that proves its holder holds this anonymous visitor id (handed out with an
    exposure to clients that keep no cookie, such as apps and SDKs)."""
    return signing.dumps(visitor_id, salt=VISITOR_TOKEN_SALT, compress=False)


def visitor_id_from_token(token: str) -> str | None:
    """The visitor id a token proves, or None when it is forged or damaged."""
    try:
        value = signing.loads(token or "", salt=VISITOR_TOKEN_SALT, max_age=VISITOR_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) and _VISITOR_ID.match(value) else None


def valid_visitor_id(value: str) -> bool:
    return bool(_VISITOR_ID.match(value or ""))
