"""Referrals: members' codes, pending referrals, fraud rules and review, conversion on email verification, expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts.selectors import normalize_email
from engagement import selectors as engagement_selectors
from engagement import services as engagement_services
from focusedroom import signals as focusedroom_signals
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, PermissionDenied
from rewards import signals
from rewards.models import AchievementConfig, Referral, ReferralCode
from rewards.schemas import reward_settings
from rewards.services.achievements import achievements_evaluate
from rewards.services.common import Reason, brand_default, member_require, referral_code_insert
from rewards.services.ledger import wallet_lock, wallets_lock
from rewards.services.pending import credit_or_hold

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


_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def _mailbox(email: str) -> str:
    """The mailbox an address delivers to: lower case, without a ``+tag``, and without the dots
    that Gmail ignores (``j.doe+x@googlemail.com`` is ``jdoe@gmail.com``)."""
    local, _, domain = normalize_email(email).partition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), _DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def _mailbox_loose(email: str) -> str:
    """``_mailbox`` without any dot in the local part: a different mailbox elsewhere than Gmail,
    but the same one often enough to be worth a look (``same_email`` holds, it does not refuse)."""
    local, _, domain = _mailbox(email).partition("@")
    return f"{local.replace('.', '')}@{domain}"


def referral_hold_reasons(*, referrer: User, referee: User, context: RequestContext | None, brand) -> list[str]:
    """The fraud rules met when ``referee`` arrives with ``referrer``'s code (empty: nothing suspicious).

    * ``same_email``: the same mailbox as the referrer or another of their referees, dots aside;
    * ``same_device``: the browser's visitor id is one the referrer used, or another referee's;
    * ``same_ip``: the address is one the referrer, or another of their referees, used within
      ``referral_ip_window_hours`` (0 turns the rule off).
    """
    Hold = Referral.HoldReason
    reasons = []
    loose = _mailbox_loose(referee.email or "")
    others = Referral.objects.filter(referrer=referrer).exclude(referee=referee)
    if loose == _mailbox_loose(referrer.email or "") or any(
        _mailbox_loose(email) == loose for email in others.values_list("email", flat=True).iterator()
    ):
        reasons.append(Hold.SAME_EMAIL)
    visitor = getattr(context, "visitor_id", "") or ""
    if visitor and (
        visitor in engagement_selectors.visitor_ids_of_person(user=referrer)
        or others.filter(visitor_id=visitor).exists()
    ):
        reasons.append(Hold.SAME_DEVICE)
    ip, hours = getattr(context, "ip", None), reward_settings(brand)["referral_ip_window_hours"]
    if ip and hours > 0:
        since = timezone.now() - timedelta(hours=hours)
        if others.filter(ip_address=ip, created_at__gte=since).exists() or engagement_selectors.person_seen_from_ip(
            user=referrer, ip=ip, since=since
        ):
            reasons.append(Hold.SAME_IP)
    return reasons


@transaction.atomic
def referral_create_pending(*, referee: User, code: str, context: RequestContext | None = None) -> Referral:
    """A new person arrived with a code: a ``pending`` referral (one per new person).

    Refused for an unknown code, a code of a staff account, for self-referral (the same
    person or the same mailbox) and for a staff referee. Held for review (``held``) when a
    fraud rule is met (``referral_hold_reasons``). When the person's email is already
    verified a pending one converts at once.
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
    reasons = referral_hold_reasons(referrer=referrer, referee=referee, context=context, brand=brand)
    now = timezone.now()
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer=referrer,
                referee=referee,
                referral_code=code,
                email=referee.email,
                brand=brand,
                expires_at=now + timedelta(days=window),
                ip_address=getattr(context, "ip", None) or None,
                visitor_id=(getattr(context, "visitor_id", "") or "")[:64],
                status=Referral.Status.HELD if reasons else Referral.Status.PENDING,
                hold_reasons=reasons,
                held_at=now if reasons else None,
            )
    except IntegrityError:
        return Referral.objects.get(referee=referee)
    engagement_services.event_record(
        event_type="referral_initiated",
        user=referrer,
        brand=brand,
        metadata={"referral_id": referral.pk, "referee_id": referee.pk, "held": reasons},
        context=context,
    )
    if referee.is_email_verified and not reasons:
        referral_convert(referee=referee, context=context)
        referral.refresh_from_db()
    return referral


@transaction.atomic
def referral_convert(*, referee: User, context: RequestContext | None = None) -> Referral | None:
    """The referee verified their email: both sides are rewarded, once. Expired ones never convert.

    A referral held for review waits for staff. A referrer past ``referral_daily_limit``
    conversions in the last 24 hours has this one held (``daily_limit``) instead of paid.
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
    brand = accounts_selectors.brand_get(referral.brand_id)
    limit = reward_settings(brand)["referral_daily_limit"]
    if limit > 0:
        # The referrer's wallet lock (made if missing; the payment takes it too) makes two conversions of
        # the same referrer count one after the other.
        referrer = accounts_selectors.person_get(referral.referrer_id, include_deleted=True)
        if not referrer.is_staff:
            wallet_lock(user=referrer, context=context)
        recent = Referral.objects.filter(
            referrer_id=referral.referrer_id, status=Referral.Status.CONVERTED, converted_at__gt=now - timedelta(days=1)
        ).count()
        if recent >= limit:
            referral.status, referral.held_at = Referral.Status.HELD, now
            referral.hold_reasons = sorted({*referral.hold_reasons, Referral.HoldReason.DAILY_LIMIT})
            referral.save(update_fields=["status", "held_at", "hold_reasons"])
            return None
    return _referral_pay(referral=referral, referee=referee, now=now, context=context)


def _referral_pay(*, referral: Referral, referee: User, now, context: RequestContext | None) -> Referral:
    """Reward both sides of a referral (locked by the caller) and mark it converted."""
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
        if amount > 0:  # held as pending first when the brand says so (``pending_days``)
            credit_or_hold(
                wallet=wallets[person.pk],
                user=person,
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
    referral.save(
        update_fields=[
            "status",
            "converted_at",
            "points_awarded_to_referrer",
            "points_awarded_to_referee",
            "reviewed_at",
            "reviewed_by",
            "review_note",
        ]
    )
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


def _reviewer_require(actor: User) -> None:
    if not (actor is not None and actor.is_staff and actor.has_perm("rewards.review_referral")):
        raise PermissionDenied("You do not have permission to review referrals.")


def _held_get(referral: Referral) -> Referral:
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status != Referral.Status.HELD:
        raise Conflict(
            f"This referral is {referral.get_status_display().lower()}, not held for review.",
            fields={"status": [f"The referral is {referral.status}."]},
        )
    return referral


@transaction.atomic
def referral_approve(
    *, referral: Referral, actor: User, note: str = "", context: RequestContext | None = None
) -> Referral:
    """Staff approve a held referral: paid at once when the new person's email is verified,
    otherwise back to pending (with a fresh window) to convert on verification."""
    _reviewer_require(actor)
    referral = _held_get(referral)
    now = timezone.now()
    referral.reviewed_at, referral.reviewed_by, referral.review_note = now, actor, (note or "").strip()[:500]
    referee = accounts_selectors.person_get(referral.referee_id, include_deleted=True)
    if referee.is_email_verified and referee.deleted_at is None:
        return _referral_pay(referral=referral, referee=referee, now=now, context=context)
    window = reward_settings(accounts_selectors.brand_get(referral.brand_id))["referral_window_days"]
    referral.status = Referral.Status.PENDING
    referral.expires_at = max(referral.expires_at, now + timedelta(days=window))
    referral.save(update_fields=["status", "expires_at", "reviewed_at", "reviewed_by", "review_note"])
    return referral


@transaction.atomic
def referral_reject(*, referral: Referral, actor: User, note: str, context: RequestContext | None = None) -> Referral:
    """Staff reject a held referral, saying why: nobody is paid, ever."""
    _reviewer_require(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say why this referral is rejected."]})
    referral = _held_get(referral)
    referral.status = Referral.Status.REJECTED
    referral.reviewed_at, referral.reviewed_by, referral.review_note = timezone.now(), actor, note[:500]
    referral.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    return referral


def referrals_expire(*, now=None) -> int:
    """Pending referrals past their window become ``expired``; returns how many."""
    return Referral.objects.filter(status=Referral.Status.PENDING, expires_at__lte=now or timezone.now()).update(
        status=Referral.Status.EXPIRED
    )


@transaction.atomic
def referral_data_erase(*, user: User) -> None:
    """GDPR erasure: the code stops working and a referral received keeps no email."""
    Referral.objects.filter(referee=user).update(
        email=accounts_selectors.erased_email(user.pk), ip_address=None, visitor_id=""
    )
    ReferralCode.objects.filter(user=user, is_active=True).update(is_active=False)
