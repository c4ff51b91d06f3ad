"""Earning gems: engagement rewards (daily login, email verified, quiz) and product scans.

The welcome credit is written when a person becomes a member (``member_enrol``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, QuerySet, When

from accounts.selectors import DEFAULT_BRAND_SLUG
from engagement import services as engagement_services
from focusedroom.context import RequestContext
from focusedroom.errors import NotFound
from rewards import signals
from rewards.models import AchievementConfig, EngagementReward, Product, ProductScan
from rewards.schemas import reward_settings
from rewards.services.achievements import achievements_evaluate
from rewards.services.common import Kind, Reason, brand_default, local_date, member_require
from rewards.services.ledger import entry_write, wallet_lock
from rewards.services.pending import credit_or_hold
from rewards.services.ranks import rank_for

if TYPE_CHECKING:
    from accounts.models import User

RewardType = EngagementReward.Type


# ------------------------------------------------------------------ engagement rewards


def _engagement_reward(
    *,
    user: User,
    reward_type: str,
    given: QuerySet[EngagementReward],
    reason: str,
    idempotency_key: str,
    day: date,
    description: str,
    source: str = "",
    streak: Callable[[], int] | None = None,
    record_when_free: bool = True,
    context: RequestContext | None = None,
) -> tuple[EngagementReward | None, bool]:
    """The one engagement-reward rule. Returns ``(reward, created)``.

    Under the member's wallet lock: the reward already given (``given``) is returned as is;
    otherwise the amount comes from FocusedRoom's brand settings (the setting named after
    the reward type), the credit is written with ``idempotency_key`` and the reward is
    recorded. A reward worth 0 gems writes no entry, and is recorded only when
    ``record_when_free``. ``description`` may name the ``{streak}``.
    """
    member_require(user)
    wallet = wallet_lock(user=user, context=context)
    existing = given.first()
    if existing is not None:
        return existing, False
    days = streak() if streak else 1
    brand = brand_default()
    amount = reward_settings(brand)[reward_type]
    if amount <= 0 and not record_when_free:
        return None, False
    entry = None
    if amount > 0:
        entry, _ = entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=amount,
            reason=reason,
            brand=brand,
            idempotency_key=idempotency_key,
            source=source,
            description=description.format(streak=days),
            context=context,
        )
    reward = EngagementReward.objects.create(
        user=user, reward_type=reward_type, reward_amount=amount, day=day, streak=days, entry=entry
    )
    return reward, True


@transaction.atomic
def daily_reward_claim(*, user: User, context: RequestContext | None = None) -> tuple[EngagementReward, bool]:
    """The daily login reward, once per calendar day in the member's time zone.

    Returns ``(reward, created)``; a second claim the same day returns the first reward.
    The wallet lock serialises a person's claims; the database's unique key per person,
    reward type and day is the final word.
    """
    member_require(user)
    today = local_date(user)
    rewards = EngagementReward.objects.filter(user=user, reward_type=RewardType.DAILY_LOGIN)

    def streak() -> int:
        previous = rewards.filter(day=today - timedelta(days=1)).only("streak").first()
        return previous.streak + 1 if previous else 1

    reward, created = _engagement_reward(
        user=user,
        reward_type=RewardType.DAILY_LOGIN,
        given=rewards.filter(day=today),
        reason=Reason.DAILY_LOGIN,
        idempotency_key=f"daily_login:{user.pk}:{today.isoformat()}",
        day=today,
        source=f"daily_login:{today.isoformat()}",
        description="Day {streak} of your login streak",
        streak=streak,
        context=context,
    )
    return reward, created


@transaction.atomic
def email_verified_reward(*, user: User, context: RequestContext | None = None) -> EngagementReward | None:
    """The email-verified bonus, once per person (None when it was already given)."""
    reward, created = _engagement_reward(
        user=user,
        reward_type=RewardType.EMAIL_VERIFIED,
        given=EngagementReward.objects.filter(user=user, reward_type=RewardType.EMAIL_VERIFIED),
        reason=Reason.EMAIL_VERIFIED,
        idempotency_key=f"email_verified:{user.pk}",
        day=local_date(user),
        description="Thank you for verifying your email address",
        context=context,
    )
    return reward if created else None


@transaction.atomic
def quiz_reward(*, result: Any, user: User | None, context: RequestContext | None = None) -> EngagementReward | None:
    """Gems for a completed Big Five test, the first time per report (quiz result).

    Records the amount on the result through ``engagement.services.quiz_result_record_gems``.
    Anonymous results earn nothing; a quiz worth 0 gems records nothing.
    """
    if user is None or result is None or result.pk is None:
        return None
    key = f"quiz:{result.pk}"
    reward, created = _engagement_reward(
        user=user,
        reward_type=RewardType.QUIZ_COMPLETED,
        given=EngagementReward.objects.filter(
            user=user, reward_type=RewardType.QUIZ_COMPLETED, entry__idempotency_key=key
        ),
        reason=Reason.QUIZ_COMPLETED,
        idempotency_key=key,
        day=local_date(user),
        source=f"quiz_result:{result.pk}",
        description="Big Five test completed",
        record_when_free=False,
        context=context,
    )
    if not created:
        return None
    engagement_services.quiz_result_record_gems(result=result, gems=reward.reward_amount)
    return reward


# ---------------------------------------------------------------------------- scans


def parse_qr(payload: str) -> tuple[str, str]:
    """A product QR code holds ``<brand slug>:<sku>`` (optionally prefixed ``fr:``)."""
    payload = (payload or "").strip()
    payload = payload.removeprefix("fr:")
    brand_slug, sep, sku = payload.partition(":")
    if not sep or not brand_slug or not sku:
        raise ValidationError({"qr": ["This QR code is not a FocusedRoom product code (brand:sku)."]})
    return brand_slug, sku


@transaction.atomic
def product_scan(
    *,
    user: User,
    sku: str = "",
    brand: str = "",
    qr: str = "",
    context: RequestContext | None = None,
) -> tuple[ProductScan, bool]:
    """A member scans a product: ``points_award`` × their rank multiplier for the product's brand.

    One award per member, product and day (member's time zone): a repeat scan that day
    returns the first scan, awards nothing and is still logged. Unknown SKU -> NotFound.
    """
    member_require(user)
    if qr:
        brand, sku = parse_qr(qr)
    sku, brand = (sku or "").strip(), (brand or "").strip() or DEFAULT_BRAND_SLUG
    if not sku:
        raise ValidationError({"sku": ["Give the product's SKU (or a QR code payload)."]})
    # Codes are typed by hand: any letter case finds the product (an exact match first, should two differ
    # only in case). Refusals name the code typed, never an internal identifier.
    product = (
        Product.objects.select_related("brand")
        .filter(sku__iexact=sku, brand__slug=brand, is_active=True, brand__is_active=True)
        .order_by(Case(When(sku=sku, then=0), default=1), "pk")
        .first()
    )
    if product is None:
        message = f"We do not know the product code {sku!r}. Check the code printed under the QR code."
        raise NotFound(message, fields={"sku": [message]})
    today = local_date(user)
    wallet = wallet_lock(user=user, context=context)
    existing = ProductScan.objects.filter(user=user, product=product, day=today).first()
    if existing is not None:
        engagement_services.event_record(
            event_type="product_scanned",
            user=user,
            brand=product.brand,
            product_id=product.pk,
            points_awarded=0,
            metadata={"sku": product.sku, "scan_id": existing.pk, "repeat": True},
            context=context,
        )
        return existing, False
    rank = rank_for(brand_id=product.brand_id, lifetime=wallet.lifetime_earned)
    multiplier = rank.point_multiplier if rank else Decimal("1.00")
    points = int((Decimal(product.points_award) * multiplier).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    entry = None
    if points > 0:  # held as pending first when the brand says so (``pending_days``)
        entry, _ = credit_or_hold(
            wallet=wallet,
            user=user,
            amount=points,
            reason=Reason.PRODUCT_SCAN,
            brand=product.brand,
            idempotency_key=f"scan:{user.pk}:{product.pk}:{today.isoformat()}",
            source=f"product:{product.pk}",
            description=f"Scanned {product.name}"
            + (f" (×{multiplier} {rank.name})" if rank and multiplier != 1 else ""),
            context=context,
        )
    scan = ProductScan.objects.create(
        user=user, product=product, day=today, points_awarded=points, multiplier=multiplier, entry=entry
    )
    event = engagement_services.event_record(
        event_type="product_scanned",
        user=user,
        brand=product.brand,
        product_id=product.pk,
        points_awarded=points,
        metadata={"sku": product.sku, "scan_id": scan.pk, "multiplier": str(multiplier)},
        context=context,
    )
    achievements_evaluate(
        user=user,
        types=[AchievementConfig.Type.SCAN_COUNT, AchievementConfig.Type.PURCHASE_AMOUNT],
        context=context,
    )
    signals.product_scanned.send(
        sender=ProductScan, user=user, product=product, points_awarded=points, event=event, context=context
    )
    return scan, True
