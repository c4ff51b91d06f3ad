"""Unlocks and rank-ups are announced on the next page the member opens.

The member's browser keeps, in a signed cookie, the id of the last unlock or rank change it has
announced (no database write on a GET). On each page view (GET, outside the API and the console)
``AnnouncementsMiddleware`` turns newer ones into messages shown on that page and moves the mark.
At log-in the mark is set to what came *before* the log-in (``remember_before_login`` runs before
the daily reward), so a rank-up earned by the log-in's own reward is announced on the next page.
The history page (``/account/gems/``) lists them too.
"""

from __future__ import annotations

from django.contrib import messages

from accounts.selectors import is_member
from rewards import selectors

COOKIE = "fr_seen"
COOKIE_SALT = "rewards.announcements"
COOKIE_MAX_AGE = 365 * 24 * 3600
SKIPPED_PREFIXES = ("/api/", "/admin/", "/static/", "/favicon.ico", "/healthz")
_AT_LOGIN = "_rewards_seen_at_login"
_NEW_MARK = "_rewards_seen_mark"


def _mark_of(request, user) -> int | None:
    """The last announced event id for this member in this browser (None when unknown)."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT)
    owner, _, mark = (raw or "").partition(":")
    if owner != str(user.pk) or not mark.isdigit():
        return None
    return int(mark)


def remember_before_login(sender, *, user, request=None, **kwargs) -> None:
    """``user_logged_in`` receiver connected before the daily reward's: what is news starts after this."""
    if request is not None and is_member(user):
        setattr(request, _AT_LOGIN, selectors.announced_up_to(user=user))


class AnnouncementsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and not request.path.startswith(SKIPPED_PREFIXES):
            self._announce(request)
        response = self.get_response(request)
        mark = getattr(request, _AT_LOGIN, None)
        mark = getattr(request, _NEW_MARK, None) if mark is None else mark
        if mark is not None and request.user.is_authenticated:
            response.set_signed_cookie(
                COOKIE,
                f"{request.user.pk}:{mark}",
                salt=COOKIE_SALT,
                max_age=COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    def _announce(self, request) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_member(user):
            return
        mark = _mark_of(request, user)
        if mark is None:  # a browser that never announced anything: start from now, quietly
            setattr(request, _NEW_MARK, selectors.announced_up_to(user=user))
            return
        news = selectors.announcements_for(user=user, after_id=mark)
        for item in news:
            messages.success(request, item["text"], extra_tags=f"announcement announcement-{item['kind']}")
        if news:
            setattr(request, _NEW_MARK, news[-1]["id"])
