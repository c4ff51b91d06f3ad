"""One-click links in emails: ``/a/<action_token>/login/`` and ``/a/<action_token>/unsubscribe/``.

Every person has one ``action_token`` (a random UUID). Using a link rotates it in one
statement (``UPDATE … WHERE action_token = <old> RETURNING id``), so each link works
once and two parallel clicks cannot both succeed. Rules:

- log-in links expire ``ACTION_LOGIN_TTL_DAYS`` (default 7) after the token was issued
  and never log in staff accounts (the console needs a password);
- unsubscribe links do not expire until the token is used (an unsubscribe link in an
  old email must keep working); using one clears marketing consent.

Both pages ask for a button press (POST) before acting, so mail scanners that follow
links do neither.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import person_withdraw_marketing_consent
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, NotFound

ACTIONS = ("login", "unsubscribe")


def login_ttl() -> timedelta:
    return timedelta(days=settings.ACTION_LOGIN_TTL_DAYS)


def action_link(*, user: User, action: str) -> str:
    """The absolute link for an email (uses the person's current token)."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}.")
    return settings.SITE_URL + reverse(f"action-{action}", args=[user.action_token])


def _parse(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


def action_token_get(*, token, action: str) -> User:
    """The person a link belongs to, or a clear error (unknown or used: 404, expired: 409)."""
    value = _parse(token)
    user = User.objects.filter(action_token=value).first() if value else None
    if user is None:
        raise NotFound("This link is not valid or has already been used.")
    if action == "login":
        if user.is_staff:
            raise Conflict("Staff accounts cannot log in by email link. Log in with your password.")
        if user.action_token_issued_at <= timezone.now() - login_ttl():
            raise Conflict("This log-in link has expired. Log in with your password or ask for a new link.")
    return user


_ROTATE_SQL = """
UPDATE accounts_user
   SET action_token = %s, action_token_issued_at = now(), updated_at = now()
 WHERE action_token = %s AND deleted_at IS NULL
RETURNING id
"""


@transaction.atomic
def action_token_use(*, token, action: str, context: RequestContext | None = None) -> User:
    """Consume a link: rotate the token atomically, then perform the action. Returns the person."""
    user = action_token_get(token=token, action=action)
    with connection.cursor() as cursor:
        cursor.execute(_ROTATE_SQL, [uuid.uuid4(), _parse(token)])
        row = cursor.fetchone()
    if row is None:  # a parallel click used it first
        raise NotFound("This link is not valid or has already been used.")
    user.refresh_from_db()
    if action == "unsubscribe":
        person_withdraw_marketing_consent(user=user, source="unsubscribe_link", context=context)
    return user
