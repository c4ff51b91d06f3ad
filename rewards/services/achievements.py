"""Achievements: progress measured in SQL on events, completion awarded exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts import selectors as accounts_selectors
from engagement import selectors as engagement_selectors
from engagement import services as engagement_services
from focusedroom.context import RequestContext
from rewards import signals
from rewards.models import AchievementConfig, ProductScan, Referral, UserAchievement, Wallet, WishlistItem
from rewards.services.common import Kind, Reason, brand_default, member_require
from rewards.services.ledger import entry_write, wallet_lock

if TYPE_CHECKING:
    from accounts.models import User

TIMEFRAME_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def achievement_metric(*, user: User, config: AchievementConfig, now=None) -> Decimal:
    """The member's value of the config's metric, aggregated in SQL."""
    criteria = config.criteria
    metric = criteria["metric"]
    days = TIMEFRAME_DAYS.get(criteria.get("timeframe", "all_time"))
    since = (now or timezone.now()) - timedelta(days=days) if days else None
    brand_id = config.brand_id

    def window(field: str) -> Q:
        return Q(**{f"{field}__gte": since}) if since else Q()

    if metric in ("scan_count", "purchase_amount"):
        scans = ProductScan.objects.filter(window("created_at"), user=user)
        if brand_id:
            scans = scans.filter(product__brand_id=brand_id)
        if metric == "scan_count":
            return Decimal(scans.count())
        return scans.aggregate(total=Sum("product__msrp"))["total"] or Decimal(0)
    if metric == "referral_count":
        referrals = Referral.objects.filter(window("converted_at"), referrer=user, status=Referral.Status.CONVERTED)
        if brand_id:
            referrals = referrals.filter(brand_id=brand_id)
        return Decimal(referrals.count())
    if metric == "wishlist_items":
        items = WishlistItem.objects.filter(window("added_at"), user=user)
        if brand_id:
            items = items.filter(product__brand_id=brand_id)
        return Decimal(items.count())
    if metric == "achievements_unlocked":
        unlocked = UserAchievement.objects.filter(window("completed_at"), user=user, completed=True).exclude(
            config=config
        )
        if brand_id:
            unlocked = unlocked.filter(Q(config__brand_id=brand_id) | Q(config__brand__isnull=True))
        return Decimal(unlocked.count())
    return Decimal(
        engagement_selectors.event_count(user=user, event_type=criteria["event_type"], since=since, brand_id=brand_id)
    )


def criteria_met(*, criteria: dict[str, Any], value: Decimal) -> bool:
    target = Decimal(str(criteria["value"]))
    return {">=": value >= target, ">": value > target, "==": value == target}[criteria["operator"]]


def _achievement_award(
    *, row: UserAchievement, config: AchievementConfig, user: User, now, context: RequestContext | None
) -> None:
    points = config.points
    entry = None
    if points > 0:
        wallet = wallet_lock(user=user, context=context)
        entry, _ = entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=points,
            reason=Reason.ACHIEVEMENT,
            brand=config.brand or brand_default(),
            idempotency_key=f"achievement:{config.pk}:{user.pk}",
            source=f"achievement:{config.pk}",
            description=f"Achievement unlocked: {config.name}",
            context=context,
        )
    row.completed, row.completed_at, row.points_rewarded, row.entry = True, now, points, entry
    engagement_services.event_record(
        event_type="achievement_unlocked",
        user=user,
        brand=config.brand,
        points_awarded=points,
        metadata={"achievement_key": config.achievement_key, "config_id": config.pk},
        context=context,
    )


@transaction.atomic
def achievements_evaluate(
    *, user: User, types: list[str] | None = None, context: RequestContext | None = None
) -> list[UserAchievement]:
    """Update the member's progress on the active achievements of these types.

    A met criterion completes the achievement and awards its gems exactly once (the
    progress row is locked, completion is final in the database, and the credit has
    the idempotency key ``achievement:<config>:<person>``). Unlocks cascade to
    ``achievement_unlocked`` achievements.
    """
    member_require(user)
    unlocked: list[UserAchievement] = []
    pending_types = list(types) if types else [t for t, _ in AchievementConfig.Type.choices]
    for _ in range(5):  # cascade depth: unlocks may unlock "achievements unlocked" achievements
        configs = list(
            AchievementConfig.objects.filter(is_active=True, achievement_type__in=pending_types)
            .exclude(pk__in=UserAchievement.objects.filter(user=user, completed=True).values("config_id"))
            .select_related("brand")
        )
        if not configs:
            break
        # Lock order everywhere: the wallet first, then progress rows.
        wallet_lock(user=user, context=context)
        newly = []
        now = timezone.now()
        for config in configs:
            value = achievement_metric(user=user, config=config, now=now)
            row, _ = UserAchievement.objects.select_for_update().get_or_create(user=user, config=config)
            if row.completed:
                continue
            row.progress = max(value, Decimal(0))
            row.updated_at = now
            if criteria_met(criteria=config.criteria, value=value):
                _achievement_award(row=row, config=config, user=user, now=now, context=context)
                newly.append((row, config))
            row.save()
        for row, config in newly:
            signals.achievement_unlocked.send(
                sender=UserAchievement, user=user, achievement=row, config=config, context=context
            )
        unlocked += [row for row, _ in newly]
        if not newly:
            break
        pending_types = [AchievementConfig.Type.ACHIEVEMENT_UNLOCKED]
    return unlocked


def achievements_recompute(
    *, config: AchievementConfig | None = None, batch_size: int = 500, context: RequestContext | None = None
) -> dict[str, int]:
    """Rebuild progress (after a criterion changed) for every member with a wallet.

    Progress is recomputed from the recorded scans, referrals, wishlists and event log;
    completed achievements stay completed; newly met ones are awarded once.
    """
    types = [config.achievement_type] if config else None
    people = unlocked = 0
    last = 0
    while True:
        ids = list(
            Wallet.objects.filter(user_id__gt=last, user__is_staff=False)
            .order_by("user_id")
            .values_list("user_id", flat=True)[:batch_size]
        )
        if not ids:
            return {"people": people, "unlocked": unlocked}
        for user in accounts_selectors.people(include_deleted=True).filter(pk__in=ids).order_by("pk"):
            unlocked += len(achievements_evaluate(user=user, types=types, context=context))
            people += 1
        last = ids[-1]
