"""Writes about people: identification, sign-up, account claims, API tokens, profiles.

Every function is keyword-only and owns its transaction. User errors are raised as
``ValidationError`` with field messages (or ``focusedroom.errors`` exceptions).
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import signals
from accounts.models import (
    BIG_FIVE_TEST_CHANNEL_ID,
    DEFAULT_BRAND_SLUG,
    AccountClaim,
    ApiToken,
    Brand,
    CareerStage,
    Channel,
    KitState,
    User,
    normalize_email,
)
from focusedroom.context import RequestContext
from focusedroom.email import send_templated_email
from focusedroom.errors import Conflict, NotFound

# Demographic fields a person may give (Big Five form, sign-up, profile edit).
PROFILE_FIELDS: dict[str, int | None] = {
    # field -> max length (None: not a string)
    "name": 255,
    "first_name": 100,
    "last_name": 100,
    "phone_number": 20,
    "age": None,
    "profession": 255,
    "career_stage": 100,
    "purpose": 2000,
    "country_code": 2,
    "time_zone": 63,
}
EMAIL_UNIQUE_CONSTRAINTS = {"accounts_user_email_ci_unique", "accounts_user_email_key"}


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def clean_email(email: str | None) -> str:
    """Normalise and validate an email address (field error on ``email``)."""
    email = normalize_email(email or "")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    if len(email) > 254:
        raise ValidationError({"email": ["An email address has at most 254 characters."]})
    return email


def clean_profile(data: dict[str, Any]) -> dict[str, Any]:
    """Validate demographic fields; blank values are dropped (they never erase data)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, value in data.items():
        if field not in PROFILE_FIELDS:
            errors[field] = ["Unknown field."]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if field == "age":
            try:
                value = int(value)
            except (TypeError, ValueError):
                errors[field] = ["Enter a whole number."]
                continue
            if not 13 <= value <= 120:
                errors[field] = ["Age must be between 13 and 120."]
                continue
        else:
            value = str(value).strip()
            max_length = PROFILE_FIELDS[field]
            if max_length is not None and len(value) > max_length:
                errors[field] = [f"At most {max_length} characters."]
                continue
            if field == "career_stage" and value not in CareerStage.values:
                errors[field] = [f"Choose one of: {', '.join(CareerStage.values)}."]
                continue
            if field == "country_code":
                value = value.upper()
                if len(value) != 2 or not value.isalpha():
                    errors[field] = ["Use a two-letter ISO country code."]
                    continue
            if field == "time_zone" and value not in zoneinfo.available_timezones():
                errors[field] = ["Unknown time zone; use an IANA name such as Europe/Paris."]
                continue
        cleaned[field] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _is_email_conflict(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) in EMAIL_UNIQUE_CONSTRAINTS


@transaction.atomic
def person_identify(
    *,
    email: str,
    profile: dict[str, Any] | None = None,
    marketing_opt_in: bool | None = None,
    channel_id: int = BIG_FIVE_TEST_CHANNEL_ID,
    anonymous_id: str = "",
    context: RequestContext | None = None,
) -> tuple[User, bool]:
    """Find the person with this email (any letter case) or create them.

    Returns ``(user, created)`` with the row locked until the caller's transaction
    ends, so callers can number things per person safely. Safe under concurrent calls
    with the same email: the database's case-insensitive unique index decides the race
    and the loser reads the winner's row. Only the profile values given are written; a
    blank never erases a stored value; consent is only ever granted here (withdrawing
    it is an explicit action).
    """
    email = clean_email(email)
    profile = clean_profile(profile or {})
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.all_objects.create(
                email=email,
                password=make_password(None),
                channel_id=channel_id,
                marketing_opt_in=bool(marketing_opt_in),
                marketing_opt_in_at=now if marketing_opt_in else None,
                **profile,
            )
        created = True
    except IntegrityError as exc:
        if not _is_email_conflict(exc):
            raise
        user = User.all_objects.select_for_update().get(email=email)
        created = False
        if user.deleted_at is not None:
            raise ValidationError({"email": ["This email address cannot be used."]}) from None
        changed = [field for field, value in profile.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, profile[field])
        if marketing_opt_in and not user.marketing_opt_in:
            user.marketing_opt_in, user.marketing_opt_in_at = True, now
            changed += ["marketing_opt_in", "marketing_opt_in_at"]
        if changed:
            user.save(update_fields=[*changed, "updated_at"])
    signals.person_identified.send(sender=User, user=user, created=created, anonymous_id=anonymous_id, context=context)
    return user, created


@transaction.atomic
def person_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """A person edits their own profile. ``marketing_opt_in`` may be granted or withdrawn."""
    data = dict(data)
    opt_in = data.pop("marketing_opt_in", None)
    profile = clean_profile(data)
    for field, value in profile.items():
        setattr(user, field, value)
    fields = [*profile, "updated_at"]
    if opt_in is not None and bool(opt_in) != user.marketing_opt_in:
        user.marketing_opt_in = bool(opt_in)
        user.marketing_opt_in_at = timezone.now() if opt_in else None
        fields += ["marketing_opt_in", "marketing_opt_in_at"]
    user.save(update_fields=fields)
    signals.person_updated.send(sender=User, user=user, fields=fields)
    return user


@transaction.atomic
def person_withdraw_marketing_consent(*, user: User, source: str) -> bool:
    """Clear marketing opt-in (unsubscribe link, provider webhook). Returns True if it changed."""
    changed = User.all_objects.filter(pk=user.pk, marketing_opt_in=True).update(
        marketing_opt_in=False, marketing_opt_in_at=None, updated_at=timezone.now()
    )
    if changed:
        user.marketing_opt_in, user.marketing_opt_in_at = False, None
        signals.person_updated.send(sender=User, user=user, fields=["marketing_opt_in"], source=source)
    return bool(changed)


@transaction.atomic
def person_record_email_problem(*, user: User, problem: str) -> None:
    """Record a bounce or spam complaint reported by an email provider."""
    field = {"bounced": "email_bounced_at", "spammed": "email_spam_reported_at"}[problem]
    now = timezone.now()
    User.all_objects.filter(pk=user.pk).update(**{field: now, "updated_at": now})
    setattr(user, field, now)
    signals.person_updated.send(sender=User, user=user, fields=[field])


@transaction.atomic
def person_set_kit_subscription(*, user: User, state: str | None = None, subscriber_id: str | None = None) -> None:
    """Store what Kit says about the person (state from webhooks, subscriber id from sync)."""
    updates: dict[str, Any] = {}
    if state is not None:
        if state not in KitState.values:
            raise ValidationError({"state": [f"Unknown Kit state {state!r}."]})
        updates["kit_state"] = state
    if subscriber_id is not None:
        updates["kit_subscriber_id"] = str(subscriber_id)[:64]
    if updates:
        User.all_objects.filter(pk=user.pk).update(**updates, updated_at=timezone.now())
        for field, value in updates.items():
            setattr(user, field, value)


@dataclass(frozen=True)
class SignupResult:
    user: User
    claim_pending: bool  # True: an existing customer record awaits email confirmation


@transaction.atomic
def member_signup(
    *,
    email: str,
    password: str,
    referral_code: str = "",
    channel_id: int = BIG_FIVE_TEST_CHANNEL_ID,
    context: RequestContext | None = None,
) -> SignupResult:
    """Create a member account, or start claiming the customer record with this email.

    A customer who took the test before signing up already has a row (with no usable
    password). Sign-up never creates a second row: it emails a link to that address and
    sets the password only when the link is followed (``account_claim_confirm``).
    """
    email = clean_email(email)
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    referral_code = (referral_code or "").strip()[:50]

    existing = User.all_objects.select_for_update().filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email, password, channel_id=channel_id)
        except IntegrityError as exc:
            if not _is_email_conflict(exc):
                raise
            existing = User.all_objects.select_for_update().get(email=email)
        else:
            signals.person_signed_up.send(sender=User, user=user, referral_code=referral_code, context=context)
            return SignupResult(user=user, claim_pending=False)

    if existing.deleted_at is not None:
        raise ValidationError({"email": ["This email address cannot be used."]})
    if existing.has_usable_password():
        raise ValidationError({"email": ["An account with this email already exists. Log in or reset your password."]})

    raw = secrets.token_urlsafe(32)
    AccountClaim.objects.create(
        user=existing,
        token_hash=hash_token(raw),
        password_hash=make_password(password),
        referral_code=referral_code,
        expires_at=timezone.now() + timedelta(hours=settings.ACCOUNT_CLAIM_TTL_HOURS),
    )
    context = {
        "user": existing,
        "link": settings.SITE_URL + reverse("account-claim", args=[raw]),
        "ttl_hours": settings.ACCOUNT_CLAIM_TTL_HOURS,
    }
    # Sent once the claim is committed: no mail for a rolled-back claim, no SMTP under the row lock.
    transaction.on_commit(
        lambda: send_templated_email(
            to=existing.email,
            subject="Finish creating your FocusedRoom account",
            template="account_claim",
            context=context,
        )
    )
    return SignupResult(user=existing, claim_pending=True)


def account_claim_get(*, raw_token: str) -> AccountClaim:
    """The claim behind a link, or a clear error (unknown, used, expired)."""
    claim = AccountClaim.objects.select_related("user").filter(token_hash=hash_token(raw_token)).first()
    if claim is None:
        raise NotFound("This link is not valid. Sign up again to get a new one.")
    if claim.used_at is not None:
        raise Conflict("This link has already been used. Log in with your email and password.")
    if claim.expires_at <= timezone.now():
        raise Conflict("This link has expired. Sign up again to get a new one.")
    return claim


@transaction.atomic
def account_claim_confirm(*, raw_token: str, context: RequestContext | None = None) -> User:
    """Follow a claim link: the email is proven, the password chosen at sign-up is set."""
    claim = account_claim_get(raw_token=raw_token)
    claim = AccountClaim.objects.select_for_update().select_related("user").get(pk=claim.pk)  # locks both rows
    if claim.used_at is not None:  # a concurrent click won
        raise Conflict("This link has already been used. Log in with your email and password.")
    user = claim.user
    now = timezone.now()
    user.password = claim.password_hash
    fields = ["password", "updated_at"]
    if not user.is_email_verified:
        user.is_email_verified, user.email_verified_at = True, now
        fields += ["is_email_verified", "email_verified_at"]
    user.save(update_fields=fields)
    claim.used_at = now
    claim.save(update_fields=["used_at"])
    AccountClaim.objects.filter(user=user, used_at__isnull=True).update(used_at=now)  # older links die
    signals.email_verified.send(sender=User, user=user, context=context)
    signals.person_signed_up.send(sender=User, user=user, referral_code=claim.referral_code, context=context)
    return user


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Issue a token; the clear token is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, key_hash=hash_token(raw), prefix=raw[:8], name=name[:100])
    return token, raw


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True, user__deleted_at__isnull=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # Record use at most once a minute per token: no write on every request.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - timedelta(minutes=1)).update(
            last_used_at=now
        )
    return token


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


REFERENCE_CHANNELS = [
    (1, "Big Five Test", "Customer acquired through personality test"),
    (2, "eBook Download", "Customer acquired through eBook download"),
    (3, "Mobile App", "Customer acquired through mobile app"),
]


def reference_data_ensure() -> None:
    """Re-create the reference rows a migration installs (channels 1–3, the default brand) if missing.

    Used after a database flush (transactional tests); idempotent and cheap when nothing is missing.
    """
    if Channel.objects.filter(pk__in=[c[0] for c in REFERENCE_CHANNELS]).count() < len(REFERENCE_CHANNELS):
        for pk, name, description in REFERENCE_CHANNELS:
            Channel.objects.update_or_create(pk=pk, defaults={"name": name, "description": description})
    if not Brand.objects.filter(slug=DEFAULT_BRAND_SLUG).exists():
        Brand.objects.create(slug=DEFAULT_BRAND_SLUG, name="FocusedRoom")
