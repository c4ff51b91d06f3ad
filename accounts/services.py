"""Writes about people: identification, sign-up, account claims, API tokens, profiles.

Every function is keyword-only and owns its transaction. User errors are raised as
``ValidationError`` with field messages (or ``focusedroom.errors`` exceptions).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import zoneinfo
from collections.abc import Callable
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

from accounts import signals, token_cache
from accounts.models import (
    BIG_FIVE_TEST_CHANNEL_ID,
    DEFAULT_BRAND_SLUG,
    AccountClaim,
    ApiToken,
    Brand,
    CareerStage,
    Channel,
    EmailChange,
    KitState,
    PersonChange,
    User,
    normalize_email,
)
from accounts.selectors import active_person, holds_account
from accounts.sessions import sessions_end
from focusedroom.context import RequestContext
from focusedroom.email import send_templated_email_later
from focusedroom.errors import Conflict, NotFound, PermissionDenied

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


def _stage_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


_CAREER_STAGES = {_stage_key(value): value for value in CareerStage.values} | {
    _stage_key(label): value for value, label in CareerStage.choices
}


def career_stage_value(text: str | None) -> str | None:
    """The stored career stage for ``text``: a value (``mid_career``) or a label as seed 000 writes
    it (``Mid Career``), in any letter case and with spaces, hyphens or underscores; ``None`` when
    it names no stage. The one rule every door (API, pages, imports, filters) accepts stages by."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _CAREER_STAGES.get(_stage_key(text))


def clean_profile(data: dict[str, Any], *, keep_blanks: bool = False) -> dict[str, Any]:
    """Validate demographic fields. Blank values are dropped (they never erase data), unless
    ``keep_blanks``: then a blank clears the field (a person or staff editing a profile)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for field, value in data.items():
        if field not in PROFILE_FIELDS:
            errors[field] = ["Unknown field."]
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            if keep_blanks and field != "time_zone":
                cleaned[field] = None if field == "age" else ""
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
            if field == "career_stage":
                stage = career_stage_value(value)
                if stage is None:
                    errors[field] = [f"Choose one of: {', '.join(CareerStage.values)} (or their labels)."]
                    continue
                value = stage
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
    protect_account_holders: bool = False,
    announce: bool = True,
) -> tuple[User, bool]:
    """Find the person with this email (any letter case) or create them.

    Returns ``(user, created)`` with the row locked until the caller's transaction
    ends, so callers can number things per person safely. Safe under concurrent calls
    with the same email: the database's case-insensitive unique index decides the race
    and the loser reads the winner's row. Only the profile values given are written; a
    blank never erases a stored value; consent is only ever granted here (withdrawing
    it is an explicit action).

    ``protect_account_holders`` (an act nobody has proven to be the person's, such as a
    test submitted without logging in): a person who holds an account
    (``selectors.holds_account``), a staff member or a deleted person is returned locked
    and untouched — no profile change, no consent, no ``person_identified`` — and the
    caller decides what to do.

    ``announce=False``: the caller sends ``person_identified`` itself later, with the same
    arguments, unless the person was returned untouched (the Big Five submission announces it
    from a worker: ``engagement.result_recorded``).
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
        if protect_account_holders and (user.deleted_at is not None or user.is_staff or holds_account(user)):
            return user, False
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
    if announce:
        signals.person_identified.send(
            sender=User, user=user, created=created, anonymous_id=anonymous_id, context=context
        )
    return user, created


def person_lock(pk: int) -> User | None:
    """The (not deleted) person with this id, their row locked until the caller's transaction ends;
    None when there is no such person. Call inside a transaction."""
    return User.objects.select_for_update().filter(pk=pk).first()


def _record_change(
    *, user: User, fields: list[str], context: RequestContext | None, source: str = "", reason: str = ""
) -> None:
    """Who changed what (field names, never values) and through which door; then tell the other apps."""
    fields = [f for f in fields if f not in ("updated_at", "marketing_opt_in_at")]
    if not fields:
        return
    context = context or RequestContext.system()
    PersonChange.objects.create(
        user=user,
        actor=context.actor if getattr(context.actor, "pk", None) else None,
        source=(source or context.source)[:20],
        fields=fields,
        marketing_opt_in=user.marketing_opt_in if "marketing_opt_in" in fields else None,
        reason=reason[:255],
    )
    signals.person_updated.send(sender=User, user=user, fields=fields, source=source or context.source, context=context)


def _consent_fields(user: User, opt_in: bool, now) -> list[str]:
    """Set consent on the row object (the one place the flag and its date change together)."""
    if bool(opt_in) == user.marketing_opt_in:
        return []
    user.marketing_opt_in = bool(opt_in)
    user.marketing_opt_in_at = now if opt_in else None
    return ["marketing_opt_in", "marketing_opt_in_at"]


@transaction.atomic
def person_update_profile(*, user: User, data: dict[str, Any], context: RequestContext | None = None) -> User:
    """A person edits their own profile. ``marketing_opt_in`` may be granted or withdrawn (their own act)."""
    data = dict(data)
    opt_in = data.pop("marketing_opt_in", None)
    profile = clean_profile(data)
    user = User.all_objects.select_for_update().get(pk=user.pk)
    changed = [field for field, value in profile.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, profile[field])
    if opt_in is not None:
        changed += _consent_fields(user, bool(opt_in), timezone.now())
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
        _record_change(user=user, fields=changed, context=context)
    return user


@transaction.atomic
def person_fill_empty_profile(
    *, user: User, profile: dict[str, Any], context: RequestContext | None = None, source: str = ""
) -> list[str]:
    """Fill only the profile fields the person has left empty (a report they added to their history
    brings the demographics given with it); never overwrites, never touches consent. Returns the
    fields filled."""
    profile = clean_profile(profile)
    user_row = User.all_objects.select_for_update().get(pk=user.pk)
    filled = [f for f, v in profile.items() if getattr(user_row, f) in (None, "") and v not in (None, "")]
    for field in filled:
        setattr(user_row, field, profile[field])
        setattr(user, field, profile[field])
    if filled:
        user_row.save(update_fields=[*filled, "updated_at"])
        _record_change(user=user_row, fields=filled, context=context, source=source)
    return filled


@transaction.atomic
def person_give_marketing_consent(*, user: User, context: RequestContext | None = None, source: str = "") -> bool:
    """The person's own explicit act of giving consent (logged in, or a link sent to their verified
    address). Refused for an address nobody has proven. True if it changed."""
    user_row = User.all_objects.select_for_update().get(pk=user.pk)
    if not user_row.is_email_verified:
        raise ValidationError({"marketing_opt_in": ["Confirm your email address first."]})
    if context is not None and context.actor_is_staff and context.actor.pk != user_row.pk:
        raise PermissionDenied("Only the person can give marketing consent.")
    changed = _consent_fields(user_row, True, timezone.now())
    if changed:
        user_row.save(update_fields=[*changed, "updated_at"])
        user.marketing_opt_in, user.marketing_opt_in_at = user_row.marketing_opt_in, user_row.marketing_opt_in_at
        _record_change(user=user_row, fields=changed, context=context, source=source)
    return bool(changed)


STAFF_EDITABLE = (
    "name",
    "first_name",
    "last_name",
    "phone_number",
    "age",
    "profession",
    "career_stage",
    "purpose",
    "country_code",
    "time_zone",
)


@transaction.atomic
def person_update_by_staff(*, user: User, data: dict[str, Any], context: RequestContext) -> User:
    """Support corrects a customer's profile in the console, or withdraws their consent.

    Consent is the person's own act: staff can withdraw it (an unsubscribe on request) but
    never give it. Email, verification, provider state and deletion have services of their own.
    """
    if not context.actor_is_staff:
        raise PermissionDenied("Only staff can edit another person's profile.")
    data = dict(data)
    opt_in = data.pop("marketing_opt_in", None)
    unknown = sorted(set(data) - set(STAFF_EDITABLE))
    if unknown:
        raise ValidationError({field: ["This field cannot be changed here."] for field in unknown})
    profile = clean_profile(data, keep_blanks=True)
    user = User.all_objects.select_for_update().get(pk=user.pk)
    if opt_in and not user.marketing_opt_in:
        raise ValidationError(
            {"marketing_opt_in": ["Only the person can give marketing consent (on their account page or in an email)."]}
        )
    changed = [field for field, value in profile.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, profile[field])
    if opt_in is not None:
        changed += _consent_fields(user, bool(opt_in), timezone.now())
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
        _record_change(user=user, fields=changed, context=context)
    return user


@transaction.atomic
def person_withdraw_marketing_consent(
    *, user: User, source: str, context: RequestContext | None = None, reason: str = ""
) -> bool:
    """Clear marketing opt-in (unsubscribe link, provider webhook, support, a command). True if it changed."""
    user_row = User.all_objects.select_for_update().get(pk=user.pk)
    changed = _consent_fields(user_row, False, timezone.now())
    if changed:
        user_row.save(update_fields=[*changed, "updated_at"])
        user.marketing_opt_in, user.marketing_opt_in_at = False, None
        _record_change(user=user_row, fields=changed, context=context, source=source, reason=reason)
    return bool(changed)


@transaction.atomic
def person_soft_delete(*, user: User, context: RequestContext, reason: str = "") -> User:
    """Hide a person everywhere (log-in included); marketing stops with it. ``person_restore`` undoes it."""
    user = User.all_objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        raise Conflict("This person is already deleted.")
    if user.is_superuser:
        raise ValidationError({"deleted_at": ["A superuser cannot be deleted here."]})
    now = timezone.now()
    changed = ["deleted_at", *_consent_fields(user, False, now)]
    user.deleted_at = now
    user.save(update_fields=[*changed, "updated_at"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    token_cache.forget(user_id=user.pk)
    sessions_end(user_id=user.pk)
    _record_change(user=user, fields=changed, context=context, reason=reason)
    return user


@transaction.atomic
def person_restore(*, user: User, context: RequestContext) -> User:
    """Undo a soft deletion (consent stays withdrawn: only the person can give it again)."""
    user = User.all_objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is None:
        raise Conflict("This person is not deleted.")
    if user.email.endswith("@erased.invalid"):
        raise Conflict("An erased person cannot be restored.")
    user.deleted_at = None
    user.save(update_fields=["deleted_at", "updated_at"])
    _record_change(user=user, fields=["deleted_at"], context=context)
    return user


@transaction.atomic
def person_set_password(*, user: User, password: str, context: RequestContext) -> User:
    """Set a new password (the person's own act: reset link, password change, a superuser setting a
    staff member's console password). Every API token and every other session of the person ends."""
    if context.actor is not None and context.actor.pk != user.pk and not user.is_staff:
        raise PermissionDenied("Staff cannot set a member's password; send them a password-reset email.")
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    # Every session and API token of the person ends (a page that changes the password of the person
    # who is logged in keeps them logged in with Django's update_session_auth_hash).
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token_cache.forget(user_id=user.pk)
    sessions_end(user_id=user.pk)
    _record_change(user=user, fields=["password"], context=context)
    return user


@transaction.atomic
def person_email_change_request(*, user: User, new_email: str, context: RequestContext) -> str:
    """The person asks to use another address: a link goes to the new address, which changes only
    when that link is followed. Only the person can ask (staff cannot change an address). The answer
    is the same whether or not the new address is free (no enumeration): a taken address gets no link."""
    if context.actor is None or context.actor.pk != user.pk:
        raise PermissionDenied("Only the person can change their email address.")
    new_email = clean_email(new_email)
    if new_email == user.email:
        raise ValidationError({"email": ["This is already your email address."]})
    if User.all_objects.filter(email=new_email).exists():
        return new_email
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    EmailChange.objects.filter(user=user, used_at__isnull=True).update(used_at=now)  # one pending change at a time
    EmailChange.objects.create(
        user=user,
        new_email=new_email,
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + timedelta(hours=settings.EMAIL_CHANGE_TTL_HOURS),
    )
    send_templated_email_later(
        to=new_email,
        subject="Confirm your new FocusedRoom email address",
        template="email_change",
        context={
            "user": user,
            "new_email": new_email,
            "link": settings.SITE_URL + reverse("email-change-confirm", args=[raw]),
            "ttl_hours": settings.EMAIL_CHANGE_TTL_HOURS,
        },
    )
    _record_change(user=user, fields=["email_change_requested"], context=context)
    return new_email


def email_change_get(*, raw_token: str) -> EmailChange:
    change = (
        EmailChange.objects.select_related("user")
        .filter(token_hash=hash_token(raw_token or ""), user__deleted_at__isnull=True)
        .first()
    )
    if change is None or change.used_at is not None:
        raise NotFound("This link is not valid or has already been used.")
    if change.expires_at <= timezone.now():
        raise Conflict("This link has expired. Ask for the change again on your account page.")
    return change


@transaction.atomic
def person_email_change_confirm(*, raw_token: str, context: RequestContext | None = None) -> User:
    """Follow the link sent to the new address: the address changes and is verified; the old address is told."""
    change = email_change_get(raw_token=raw_token)
    change = EmailChange.objects.select_for_update().get(pk=change.pk)
    user = User.all_objects.select_for_update().get(pk=change.user_id)
    if change.used_at is not None:
        raise NotFound("This link is not valid or has already been used.")
    if User.all_objects.filter(email=change.new_email).exclude(pk=user.pk).exists():
        raise Conflict("This address now belongs to another account.")
    now = timezone.now()
    old_email = user.email
    user.email, user.is_email_verified, user.email_verified_at = change.new_email, True, now
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "is_email_verified", "email_verified_at", "updated_at"])
    except IntegrityError as exc:
        if _is_email_conflict(exc):
            raise Conflict("This address now belongs to another account.") from None
        raise
    EmailChange.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    send_templated_email_later(
        to=old_email,
        subject="Your FocusedRoom email address was changed",
        template="email_changed",
        context={"user": user, "old_email": old_email, "reset_link": settings.SITE_URL + reverse("password_reset")},
    )
    _record_change(user=user, fields=["email", "is_email_verified"], context=context, source="link")
    return user


def person_send_password_reset(*, user: User, context: RequestContext) -> bool:
    """Email the person a password-reset link (what support does instead of setting a password)."""
    from accounts.forms import BackgroundPasswordResetForm

    if user.deleted_at is not None or not user.is_active:
        raise ValidationError({"email": ["This person cannot log in."]})
    form = BackgroundPasswordResetForm({"email": user.email})
    if not form.is_valid():
        raise ValidationError(form.errors)
    site = settings.SITE_URL.split("://", 1)
    form.save(
        domain_override=site[1] if len(site) == 2 else site[0],
        use_https=settings.SITE_URL.startswith("https://"),
        email_template_name="registration/password_reset_email.html",
        subject_template_name="registration/password_reset_subject.txt",
    )
    _record_change(user=user, fields=["password_reset_sent"], context=context)
    return True


@transaction.atomic
def staff_save(
    *,
    user: User | None,
    data: dict[str, Any],
    groups=None,
    permissions=None,
    password: str | None = None,
    context: RequestContext,
) -> User:
    """Create (``user=None``, with a password) or change a staff account from the console."""
    if not (context.actor is not None and context.actor.is_superuser):
        raise PermissionDenied("Only a superuser manages staff accounts.")
    allowed = {"email", "name", "first_name", "last_name", "is_active", "is_superuser"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({field: ["This field cannot be changed here."] for field in unknown})
    data = dict(data)
    if "email" in data:
        data["email"] = clean_email(data["email"])
    if user is None:
        if not password:
            raise ValidationError({"password": ["Choose a password."]})
        try:
            validate_password(password, user=User(email=data.get("email", "")))
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        if User.all_objects.filter(email=data.get("email", "")).exists():
            raise ValidationError({"email": ["A person with this email already exists."]})
        user = User.objects.create_user(data.pop("email"), password, is_staff=True, **data)
        changed = ["created"]
    else:
        user = User.all_objects.select_for_update().get(pk=user.pk)
        if not user.is_staff:
            raise ValidationError({"email": ["This person is not a staff member."]})
        if "email" in data and data["email"] != user.email and User.all_objects.filter(email=data["email"]).exists():
            raise ValidationError({"email": ["A person with this email already exists."]})
        changed = [field for field, value in data.items() if getattr(user, field) != value]
        for field in changed:
            setattr(user, field, data[field])
        if changed:
            user.save(update_fields=[*changed, "updated_at"])
    if groups is not None and set(user.groups.all()) != set(groups):
        user.groups.set(groups)
        changed.append("groups")
    if permissions is not None and set(user.user_permissions.all()) != set(permissions):
        user.user_permissions.set(permissions)
        changed.append("user_permissions")
    _record_change(user=user, fields=changed, context=context)
    return user


BRAND_FIELDS = ("name", "slug", "customer_io_site_id", "settings", "is_active")


@transaction.atomic
def brand_save(*, brand: Brand | None, data: dict[str, Any], context: RequestContext | None = None) -> Brand:
    """Create (``brand=None``) or change a brand. ``customer_io_api_key``: a new key, or "" to remove it;
    absent keeps the stored key. Settings are checked by every app that owns a part of them."""
    data = dict(data)
    unknown = sorted(set(data) - {*BRAND_FIELDS, "customer_io_api_key"})
    if unknown:
        raise ValidationError({field: ["Unknown field."] for field in unknown})
    brand = Brand() if brand is None else Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.pk is not None and brand.slug == DEFAULT_BRAND_SLUG:
        # Every app finds FocusedRoom's own brand by its slug: it keeps it, and stays active.
        if data.get("slug", DEFAULT_BRAND_SLUG) != DEFAULT_BRAND_SLUG:
            raise ValidationError({"slug": ["The default brand's slug cannot change."]})
        if data.get("is_active", True) is False:
            raise ValidationError({"is_active": ["The default brand cannot be deactivated."]})
    for field, value in data.items():
        setattr(brand, field, value)
    try:
        brand.full_clean(validate_unique=True)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    brand.save()
    return brand


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


SIGNUP_ANSWER = "Check your inbox: we sent a link to {email} to finish creating your account."


@dataclass(frozen=True)
class SignupResult:
    """What sign-up may tell the caller: the same for every address (no account enumeration)."""

    email: str
    user: User | None = None  # the new account, for the caller's own bookkeeping only; never shown

    @property
    def message(self) -> str:
        return SIGNUP_ANSWER.format(email=self.email)


@transaction.atomic
def member_signup(
    *,
    email: str,
    password: str,
    referral_code: str = "",
    channel_id: int = BIG_FIVE_TEST_CHANNEL_ID,
    context: RequestContext | None = None,
) -> SignupResult:
    """Sign up with an email and a password. The caller answers the same whatever the address:

    - a new address: the account is created (unverified) and a verification link is emailed;
    - a customer record without a password (they took the test before): nothing changes until
      the link emailed to that address is followed (``account_claim_confirm`` sets the password);
    - an address that already has an account: an email tells its owner to log in or reset
      their password;
    - a deleted person: nothing happens.

    The password is hashed in every case and every email leaves from a task worker, so the
    time taken does not tell the cases apart either.
    """
    email = clean_email(email)
    try:
        validate_password(password, user=User(email=email))
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    referral_code = (referral_code or "").strip()[:50]
    password_hash = make_password(password)  # in every case: the same work whatever the address

    existing = User.all_objects.select_for_update().filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(email, None, channel_id=channel_id)
                user.password = password_hash
                user.save(update_fields=["password"])
        except IntegrityError as exc:
            if not _is_email_conflict(exc):
                raise
            existing = User.all_objects.select_for_update().get(email=email)
        else:
            signals.person_signed_up.send(sender=User, user=user, referral_code=referral_code, context=context)
            return SignupResult(email=email, user=user)

    if existing.deleted_at is not None:
        return SignupResult(email=email)
    if existing.has_usable_password():
        send_templated_email_later(
            to=existing.email,
            subject="Someone tried to create a FocusedRoom account with your address",
            template="account_exists",
            context={
                "user": existing,
                "login_link": settings.SITE_URL + reverse("login"),
                "reset_link": settings.SITE_URL + reverse("password_reset"),
            },
        )
        return SignupResult(email=email)

    raw = secrets.token_urlsafe(32)
    AccountClaim.objects.create(
        user=existing,
        token_hash=hash_token(raw),
        password_hash=password_hash,
        referral_code=referral_code,
        expires_at=timezone.now() + timedelta(hours=settings.ACCOUNT_CLAIM_TTL_HOURS),
    )
    send_templated_email_later(
        to=existing.email,
        subject="Finish creating your FocusedRoom account",
        template="account_claim",
        context={
            "user": existing,
            "link": settings.SITE_URL + reverse("account-claim", args=[raw]),
            "ttl_hours": settings.ACCOUNT_CLAIM_TTL_HOURS,
        },
    )
    return SignupResult(email=email)


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


def api_token_authenticate(
    *, raw: str, around_person_read: Callable[[int, Callable[[], User | None]], User | None] | None = None
) -> ApiToken | None:
    """The live token for ``raw`` with its person, or None.

    A token this process saw in the last ``API_TOKEN_CACHE_SECONDS`` costs one read of the person's
    row (``accounts.token_cache``: the revocation bound across processes); otherwise one read of the
    token (three columns) with its person. ``last_used_at`` is written at most once a minute.
    ``around_person_read(person id, read)`` runs that read of a known token's person (the API
    authentication overlaps the person's throttle count with it).
    """
    key_hash = hash_token(raw)
    entry = token_cache.get(key_hash)
    if entry is not None:
        read = functools.partial(active_person, entry.user_id)
        user = around_person_read(entry.user_id, read) if around_person_read is not None else read()
        if user is None:
            return None
    else:
        found = (
            ApiToken.objects.select_related("user")
            .only("id", "user_id", "last_used_at", "user")
            .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True, user__deleted_at__isnull=True)
            .first()
        )
        if found is None:
            return None
        user = found.user
        entry = token_cache.put(key_hash, token_id=found.pk, user_id=user.pk, last_used_at=found.last_used_at)
    now = timezone.now()
    if entry.last_used_at is None or entry.last_used_at <= now - timedelta(minutes=1):
        # Record use at most once a minute per token (and per process): no write on every request.
        ApiToken.objects.filter(pk=entry.token_id).exclude(last_used_at__gt=now - timedelta(minutes=1)).update(
            last_used_at=now
        )
        entry.last_used_at = now
    token = ApiToken(id=entry.token_id, user=user, key_hash=key_hash, last_used_at=entry.last_used_at)
    token._state.adding = False
    return token


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token_cache.forget(token_id=token.pk)


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
