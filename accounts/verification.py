"""Email verification: issuing links, the resend cooldown and confirming a link.

A link carries 32 random bytes (URL-safe base64); only their SHA-256 is stored. A link
works once, expires after ``EMAIL_VERIFICATION_TTL_HOURS`` and only for the address it
was sent to. At most one verification email leaves per person per
``EMAIL_VERIFICATION_COOLDOWN_SECONDS``: the cooldown is claimed by a conditional
``UPDATE`` on the person's row, so parallel requests send one email between them.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts import signals
from accounts.models import EmailVerificationToken, User, normalize_email
from accounts.services import hash_token, person_give_marketing_consent
from focusedroom.context import RequestContext
from focusedroom.email import send_templated_email_later
from focusedroom.errors import ApplicationError, Conflict, NotFound
from focusedroom.fields import decrypt_value, encrypt_value
from focusedroom.tasks import defer

logger = logging.getLogger(__name__)


class Gone(ApplicationError):
    """The link existed but can no longer be used (expired)."""

    status_code = 410
    code = "expired"


def verification_link(raw_token: str) -> str:
    return settings.SITE_URL + reverse("verify-email", args=[raw_token])


def _claim_cooldown(*, user: User, now) -> bool:
    """Set ``last_verification_email_sent_at`` if the cooldown has passed; True if this call won.

    Parallel callers block on the row lock of the ``UPDATE``; PostgreSQL re-checks the
    condition on the row the winner wrote, so only one of them changes a row.
    """
    cooldown = timedelta(seconds=settings.EMAIL_VERIFICATION_COOLDOWN_SECONDS)
    changed = (
        User.all_objects.filter(pk=user.pk, deleted_at__isnull=True, is_email_verified=False)
        .filter(Q(last_verification_email_sent_at__isnull=True) | Q(last_verification_email_sent_at__lt=now - cooldown))
        .update(last_verification_email_sent_at=now)
    )
    return changed == 1


@transaction.atomic
def verification_send(
    *,
    user: User,
    context: RequestContext | None = None,
    experiment_id=None,
    variant_id=None,
    impression_id=None,
) -> bool:
    """Email a verification link unless the person is verified or the cooldown is running.

    Returns True when an email is sent. The email leaves when the transaction commits
    (nothing is sent for a sign-up that rolls back). ``experiment_id``/``variant_id``/
    ``impression_id`` record the test the person was in, for conversion counting.
    """
    now = timezone.now()
    if not _claim_cooldown(user=user, now=now):
        return False
    user.last_verification_email_sent_at = now
    raw = secrets.token_urlsafe(32)
    EmailVerificationToken.objects.create(
        user=user,
        token=hash_token(raw),
        email=user.email,
        expires_at=now + timedelta(hours=settings.EMAIL_VERIFICATION_TTL_HOURS),
        created_at=now,
        experiment_id=experiment_id,
        variant_id=variant_id,
        impression_id=impression_id,
    )
    context = {
        "user": user,
        "link": verification_link(raw),
        "ttl_hours": settings.EMAIL_VERIFICATION_TTL_HOURS,
    }
    send_templated_email_later(
        to=user.email, subject="Confirm your FocusedRoom email address", template="verify_email", context=context
    )
    return True


def verification_request(*, email: str, context: RequestContext | None = None) -> None:
    """Resend a link to this address if it belongs to an unverified person; silent otherwise.

    The caller answers the same thing whatever happens here (no account enumeration): the
    request only queues an ``accounts.verification_resend`` job, whatever the address; the lookup
    and the sending run in a worker, so the answer takes as long for an unknown address as for a
    known one. The job carries the address encrypted.
    """
    defer(
        "accounts.verification_resend",
        email=encrypt_value(normalize_email(email)),
        context=(context or RequestContext.system()).sealed(),
    )


def verification_resend(*, email: str, context: str | None = None) -> bool:
    """The worker's half of ``verification_request`` (``email`` and ``context`` as the job carries
    them, encrypted)."""
    user = User.objects.filter(email=decrypt_value(email)).first()
    if user is None or user.is_email_verified:
        return False
    return verification_send(user=user, context=RequestContext.from_sealed(context))


def verification_token_get(*, raw_token: str) -> EmailVerificationToken:
    """The token behind a link, or a clear error: unknown (404), used (409), expired (410), other email (409)."""
    token = (
        EmailVerificationToken.objects.select_related("user")
        .filter(token=hash_token(raw_token or ""), user__deleted_at__isnull=True)
        .first()
    )
    if token is None:
        raise NotFound("This verification link is not valid. Ask for a new one below.")
    if token.is_used:
        raise Conflict("This verification link has already been used.", extra={"reason": "used"})
    if token.expires_at <= timezone.now():
        raise Gone("This verification link has expired. Ask for a new one below.")
    if normalize_email(token.email) != token.user.email:
        raise Conflict(
            "This link was sent to an address that is no longer the one on the account. Ask for a new one below.",
            extra={"reason": "email_changed"},
        )
    return token


@transaction.atomic
def verification_confirm(
    *, raw_token: str, marketing_opt_in: bool = False, context: RequestContext | None = None
) -> User:
    """Follow a verification link: the person's email is verified (once per link).

    Sends ``accounts.signals.email_verified`` (with ``verification=<token>``) when the
    person was not verified before, so receivers count conversions and referrals once.
    ``marketing_opt_in``: the person ticked the consent box next to the button (their own
    explicit act, on a link sent to the address just proven); never pre-ticked.
    """
    token = verification_token_get(raw_token=raw_token)
    token = EmailVerificationToken.objects.select_for_update().get(pk=token.pk)
    user = User.all_objects.select_for_update().get(pk=token.user_id)
    now = timezone.now()
    if token.is_used:  # a concurrent click won
        raise Conflict("This verification link has already been used.", extra={"reason": "used"})
    if user.deleted_at is not None:
        raise NotFound("This verification link is not valid. Ask for a new one below.")
    if normalize_email(token.email) != user.email:
        raise Conflict(
            "This link was sent to an address that is no longer the one on the account. Ask for a new one below.",
            extra={"reason": "email_changed"},
        )
    token.is_used, token.used_at = True, now
    token.save(update_fields=["is_used", "used_at"])
    if not user.is_email_verified:
        user.is_email_verified, user.email_verified_at = True, now
        user.save(update_fields=["is_email_verified", "email_verified_at", "updated_at"])
        signals.email_verified.send(sender=User, user=user, context=context, verification=token)
    if marketing_opt_in:
        person_give_marketing_consent(user=user, context=context, source="link")
    return user


# --------------------------------------------------------------------- receivers


def _send_safely(user: User, context: RequestContext | None) -> None:
    try:
        with transaction.atomic():
            verification_send(user=user, context=context)
    except Exception:
        logger.exception("accounts: could not issue a verification email to person %s", user.pk)


def on_person_signed_up(sender, *, user: User, context: RequestContext | None = None, **kwargs) -> None:
    """A new member (not a claimed record: the claim link already proved the email)."""
    if not user.is_email_verified:
        _send_safely(user, context)


def on_person_identified(sender, *, user: User, created: bool, context: RequestContext | None = None, **kwargs) -> None:
    """A new person gave their email on a page or through the API (the Big Five test, announced by a
    worker: a failure raises and the job retries; the cooldown keeps a retry from sending twice).

    Imports and other commands send nothing."""
    if created and context is not None and context.is_interactive and not user.is_email_verified:
        verification_send(user=user, context=context)
