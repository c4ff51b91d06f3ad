"""One-click links in emails: ``/a/<token>/login/`` and ``/a/<token>/unsubscribe/``.

Each link carries its own token (32 random bytes, URL-safe); only its SHA-256 is stored, in
``accounts_action_token`` with the link's purpose. Log-in and unsubscribe links are separate
tokens with separate lifetimes:

- a log-in link works once and for ``ACTION_LOGIN_TTL_HOURS`` (default 24); it never logs in
  a staff member (the console needs a password). Using it is one conditional ``UPDATE … SET
  used_at = now() WHERE used_at IS NULL``, so two parallel clicks cannot both log in;
- an unsubscribe link keeps working for ``ACTION_UNSUBSCRIBE_TTL_DAYS`` (default 365): an old
  email's link must still unsubscribe; using it twice changes nothing the second time.

The clear token exists only in the email (``action_link_issue`` returns the link once); the
console and the API never see a token. Both pages ask for a button press (POST) before
acting, so mail scanners that follow links do neither.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import ActionToken, User
from accounts.services import hash_token, person_withdraw_marketing_consent
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, NotFound

ACTIONS = tuple(ActionToken.Purpose.values)
INVALID = "This link is not valid or has already been used."


def lifetime(action: str) -> timedelta:
    if action == ActionToken.Purpose.LOGIN:
        return timedelta(hours=settings.ACTION_LOGIN_TTL_HOURS)
    return timedelta(days=settings.ACTION_UNSUBSCRIBE_TTL_DAYS)


def action_link_issue(*, user: User, action: str) -> str:
    """A new link for an email (the only time the clear token exists)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}.")
    if action == ActionToken.Purpose.LOGIN and user.is_staff:
        raise ValueError("Staff never log in by email link.")
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    ActionToken.objects.create(
        user=user, purpose=action, token_hash=hash_token(raw), created_at=now, expires_at=now + lifetime(action)
    )
    return settings.SITE_URL + reverse(f"action-{action}", args=[raw])


def action_token_get(*, token: str, action: str) -> ActionToken:
    """The link's token row (with its person), or a clear error: unknown or used 404, expired or staff 409."""
    row = (
        ActionToken.objects.select_related("user")
        .filter(token_hash=hash_token(token or ""), purpose=action, user__deleted_at__isnull=True)
        .first()
    )
    if row is None or row.used_at is not None:
        raise NotFound(INVALID)
    if row.expires_at <= timezone.now():
        if action == ActionToken.Purpose.LOGIN:
            raise Conflict("This log-in link has expired. Log in with your password or ask for a new link.")
        raise Conflict("This link has expired. Use the link in a newer email, or unsubscribe from your account page.")
    if action == ActionToken.Purpose.LOGIN and row.user.is_staff:
        raise Conflict("Staff accounts cannot log in by email link. Log in with your password.")
    return row


@transaction.atomic
def action_token_use(*, token: str, action: str, context: RequestContext | None = None) -> User:
    """Use a link: a log-in link is spent in one conditional statement; an unsubscribe link withdraws consent."""
    row = action_token_get(token=token, action=action)
    if action == ActionToken.Purpose.LOGIN:
        spent = ActionToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now())
        if spent != 1:  # a parallel click used it first
            raise NotFound(INVALID)
        return row.user
    person_withdraw_marketing_consent(user=row.user, source="unsubscribe_link", context=context)
    return row.user
