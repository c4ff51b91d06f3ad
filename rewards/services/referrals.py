"""Referrals: members' codes, pending referrals, conversion on email verification, expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts.selectors import normalize_email
from engagement import services as engagement_services
from focusedroom import signals as focusedroom_signals
from focusedroom.context import RequestContext
from rewards import signals
from rewards.models import AchievementConfig, Referral, ReferralCode
from rewards.schemas import reward_settings
from rewards.services.achievements import achievements_evaluate
from rewards.services.common import Kind, Reason, brand_default, member_require, referral_code_insert
from rewards.services.ledger import entry_write, wallets_lock

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def referral_code_ensure(*, user: User, context: RequestContext | None = None) -> tuple[ReferralCode, bool]:
    """The member's active referral code, made when they have none. Returns ``(code, created)``.

    Codes are made when a person becomes a member; this is the explicit action for a
    member who has none (an older account, or a code deactivated by erasure).
    """
    member_require(user)
    existing = ReferralCode.objects.filter(user=user, is_active=True).first()
    if existing is not None:
        return existing, False
    code = referral_code_insert(user=user)
    return code, True


def _mailbox(email: str) -> str:
    """The mailbox an address delivers to: lower case, without a ``+tag``."""
    local, _, domain = normalize_email(email).partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


@transaction.atomic
def referral_create_pending(*, referee: User, code: str, context: RequestContext | None = None) -> Referral:
    """A new person arrived with a code: a ``pending`` referral (one per new person).

    Refused for an unknown code, a code of a staff account, for self-referral (the same
    person or the same mailbox) and for a staff referee. When the person's email is
    already verified it converts at once.
    """
    member_require(referee)
    code = (code or "").strip()[:50]
    if not code:
        raise ValidationError({"referral_code": ["Enter a referral code."]})
    referral_code = ReferralCode.objects.select_related("user").filter(code=code, is_active=True).first()
    referrer = referral_code.user if referral_code else None
    if referrer is None or referrer.deleted_at is not None or not referrer.is_active or referrer.is_staff:
        raise ValidationError({"referral_code": ["This referral code is not valid."]})
    if referrer.pk == referee.pk or _mailbox(referrer.email) == _mailbox(referee.email):
        raise ValidationError({"referral_code": ["You cannot refer yourself."]})
    existing = Referral.objects.filter(referee=referee).first()
    if existing is not None:
        return existing
    brand = brand_default()
    window = reward_settings(brand)["referral_window_days"]
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer=referrer,
                referee=referee,
                referral_code=code,
                email=referee.email,
                brand=brand,
                expires_at=timezone.now() + timedelta(days=window),
            )
    except IntegrityError:
        return Referral.objects.get(referee=referee)
    engagement_services.event_record(
        event_type="referral_initiated",
        user=referrer,
        brand=brand,
        metadata={"referral_id": referral.pk, "referee_id": referee.pk},
        context=context,
    )
    if referee.is_email_verified:
        referral_convert(referee=referee, context=context)
        referral.refresh_from_db()
    return referral


@transaction.atomic
def referral_convert(*, referee: User, context: RequestContext | None = None) -> Referral | None:
    """The referee verified their email: both sides are rewarded, once. Expired ones never convert.

    A referrer who has become staff since is not rewarded (staff hold no gems).
    """
    member_require(referee)
    referral = Referral.objects.select_for_update().filter(referee=referee).first()
    if referral is None or referral.status != Referral.Status.PENDING:
        return None
    now = timezone.now()
    if referral.expires_at <= now:
        referral.status = Referral.Status.EXPIRED
        referral.save(update_fields=["status"])
        return None
    referrer = accounts_selectors.person_get(referral.referrer_id, include_deleted=True)
    brand = accounts_selectors.brand_get(referral.brand_id)
    amounts = reward_settings(brand)
    sides = [("referee", referee, Reason.REFERRAL_REFEREE)]
    if not referrer.is_staff:
        sides.insert(0, ("referrer", referrer, Reason.REFERRAL_REFERRER))
    wallets = wallets_lock(users=[person for _, person, _ in sides], context=context)
    given = {"referrer": 0, "referee": 0}
    for side, person, reason in sides:
        amount = amounts[f"referral_{side}"]
        given[side] = amount
        if amount > 0:
            entry_write(
                wallet=wallets[person.pk],
                user=person,
                kind=Kind.CREDIT,
                amount=amount,
                reason=reason,
                brand=brand,
                idempotency_key=f"referral:{referral.pk}:{side}",
                source=f"referral:{referral.pk}",
                description="Your friend joined FocusedRoom" if side == "referrer" else "Welcome from your friend",
                context=context,
            )
    referral.status = Referral.Status.CONVERTED
    referral.converted_at = now
    referral.points_awarded_to_referrer = given["referrer"]
    referral.points_awarded_to_referee = given["referee"]
    referral.save(update_fields=["status", "converted_at", "points_awarded_to_referrer", "points_awarded_to_referee"])
    engagement_services.event_record(
        event_type="referral_converted",
        user=referrer,
        brand=brand,
        points_awarded=given["referrer"],
        metadata={"referral_id": referral.pk, "referee_id": referee.pk},
        context=context,
    )
    if not referrer.is_staff:
        achievements_evaluate(user=referrer, types=[AchievementConfig.Type.REFERRAL_COUNT], context=context)
    signals.referral_converted.send(
        sender=Referral, referral=referral, referrer=referrer, referee=referee, context=context
    )
    focusedroom_signals.goal_reached.send(sender=Referral, user=referee, goal="referral_converted", context=context)
    return referral


def referrals_expire(*, now=None) -> int:
    """Pending referrals past their window become ``expired``; returns how many."""
    return Referral.objects.filter(status=Referral.Status.PENDING, expires_at__lte=now or timezone.now()).update(
        status=Referral.Status.EXPIRED
    )


@transaction.atomic
def referral_data_erase(*, user: User) -> None:
    """GDPR erasure: the code stops working and a referral received keeps no email."""
    Referral.objects.filter(referee=user).update(email=accounts_selectors.erased_email(user.pk))
    ReferralCode.objects.filter(user=user, is_active=True).update(is_active=False)
