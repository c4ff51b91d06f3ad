"""Reads of the rewards app (dashboards, API lists); aggregates run in SQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Count, DecimalField, F, FilteredRelation, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts import selectors as accounts_selectors
from engagement import selectors as engagement_selectors
from rewards import lots
from rewards.models import (
    AchievementConfig,
    EngagementReward,
    Goal,
    LedgerEntry,
    PendingCredit,
    Product,
    Rank,
    Referral,
    ReferralCode,
    RewardItem,
    UserAchievement,
    Wallet,
    WishlistItem,
)
from rewards.schemas import reward_settings
from rewards.services.common import local_date

if TYPE_CHECKING:
    from accounts.models import User


def known_product_ids(ids) -> list:
    """Which of these product ids exist (the event log's ``product`` references)."""
    return list(Product.objects.filter(pk__in=ids).values_list("pk", flat=True))


def ledger_for(*, user: User) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(wallet__user=user).select_related("brand").order_by("-created_at", "-id")


def rank_ladders(*, lifetime: int) -> list[dict[str, Any]]:
    """Per brand with active ranks: the rank reached, the next one and the progress to it."""
    ranks = (
        Rank.objects.filter(is_active=True, brand__is_active=True)
        .select_related("brand")
        .order_by("brand__name", "brand_id", "points_required")
    )
    ladders: dict[int, dict[str, Any]] = {}
    for rank in ranks:  # a handful of configuration rows per brand
        ladder = ladders.setdefault(rank.brand_id, {"brand": rank.brand, "current": None, "next": None})
        if rank.points_required <= lifetime:
            ladder["current"] = rank
        elif ladder["next"] is None:
            ladder["next"] = rank
    result = []
    for ladder in ladders.values():
        current, nxt = ladder["current"], ladder["next"]
        base = current.points_required if current else 0
        if nxt is None:
            percent, to_next = 100, 0
        else:
            span = max(nxt.points_required - base, 1)
            percent = max(0, min(100, int((lifetime - base) * 100 / span)))
            to_next = nxt.points_required - lifetime
        result.append(
            {
                "brand": ladder["brand"],
                "rank": current,
                "multiplier": current.point_multiplier if current else Decimal("1.00"),
                "next_rank": nxt,
                "points_to_next": to_next,
                "percent": percent,
            }
        )
    return result


def wallet_of(*, user: User) -> Wallet:
    """The member's wallet, or an unsaved empty one (balance 0) when they have none yet: a read writes nothing."""
    wallet = Wallet.objects.filter(user=user).first()
    if wallet is None:
        wallet = Wallet(user=user, balance=0, lifetime_earned=0, created_at=None, updated_at=None)
    return wallet


def expiry_schedule(*, user: User, wallet: Wallet | None = None) -> dict[str, Any]:
    """When the member's gems expire, replayed from their ledger (``rewards.lots``).

    ``{"schedule": [{"expires_at", "amount", "lots"}], "next": the first of them or None,
    "never_expire": gems without a date}``. Gems stay spendable until the hourly expiry job
    writes their expiry, so a date just passed may still be listed for a few minutes.
    """
    wallet = wallet if wallet is not None and wallet.pk else Wallet.objects.filter(user=user).first()
    if wallet is None:
        return {"schedule": [], "next": None, "never_expire": 0}
    rows = (
        LedgerEntry.objects.filter(wallet=wallet)
        .order_by("id")
        .values_list("id", "kind", "amount", "reason", "expires_at", "reverses_id", "lot_id", "created_at")
    )
    replayed = lots.replay(rows.iterator(chunk_size=2000))
    schedule = replayed.schedule()
    return {"schedule": schedule, "next": schedule[0] if schedule else None, "never_expire": replayed.never_expire}


def pending_credits_for(*, user: User) -> QuerySet[PendingCredit]:
    """The member's credits held pending (not spendable yet), the soonest release first."""
    return (
        PendingCredit.objects.filter(user=user, status=PendingCredit.Status.PENDING)
        .select_related("brand")
        .order_by("release_at", "id")
    )


def pending_total(*, user: User) -> int:
    return pending_credits_for(user=user).aggregate(total=Sum("amount", default=0))["total"]


def wallet_summary(*, user: User) -> dict[str, Any]:
    """Balance (available), pending gems, the next expiry, lifetime earned and the rank ladders;
    no ranks for a person without a wallet."""
    wallet = wallet_of(user=user)
    ranks = rank_ladders(lifetime=wallet.lifetime_earned) if wallet.pk else []
    expiry = expiry_schedule(user=user, wallet=wallet) if wallet.pk else {"next": None}
    return {
        "wallet": wallet,
        "ranks": ranks,
        "available": wallet.balance,
        "pending": pending_total(user=user) if wallet.pk else 0,
        "next_expiry": expiry["next"],
    }


def referrals_for_review() -> QuerySet[Referral]:
    """Referrals held for review, newest first (the console's and the staff API's list)."""
    return (
        Referral.objects.filter(status=Referral.Status.HELD)
        .select_related("referrer", "brand")
        .order_by("-created_at", "-id")
    )


def achievements_for(*, user: User) -> QuerySet[AchievementConfig]:
    """Active achievements (global and per brand) with the member's progress, one query."""
    return (
        AchievementConfig.objects.filter(is_active=True)
        .select_related("brand")
        .annotate(mine=FilteredRelation("progress_rows", condition=Q(progress_rows__user=user)))
        .annotate(
            my_progress=Coalesce(F("mine__progress"), Value(Decimal(0)), output_field=DecimalField()),
            my_completed=Coalesce(F("mine__completed"), Value(False)),
            my_completed_at=F("mine__completed_at"),
            my_points=Coalesce(F("mine__points_rewarded"), Value(0)),
        )
        .order_by("brand__name", "name", "id")
    )


def achievement_percent(config: AchievementConfig) -> int:
    if getattr(config, "my_completed", False):
        return 100
    target = Decimal(str(config.criteria.get("value", 0)))
    progress = getattr(config, "my_progress", None) or Decimal(0)
    if target <= 0:
        return 0
    return max(0, min(100, int(progress * 100 / target)))


def wishlist_for(*, user: User) -> QuerySet[WishlistItem]:
    return WishlistItem.objects.filter(user=user).select_related("product__brand").order_by("-added_at", "-id")


def goals_for(*, user: User) -> QuerySet[Goal]:
    return Goal.objects.filter(user=user).select_related("product").order_by("-is_active", "-started_at", "-id")


def goal_progress(goal: Goal, *, balance: int) -> dict[str, int]:
    current = goal.target_points if goal.completed_at else min(balance, goal.target_points)
    return {"current_points": current, "percent": int(current * 100 / goal.target_points)}


def referrals_for(*, user: User) -> QuerySet[Referral]:
    return Referral.objects.filter(referrer=user).order_by("-created_at", "-id")


def referral_code_of(*, user: User) -> ReferralCode | None:
    """The member's active referral code (None when they have none: reads never make one)."""
    return ReferralCode.objects.filter(user=user, is_active=True).first()


def referral_link(*, code: ReferralCode) -> str:
    return settings.SITE_URL + reverse("referral-landing", args=[code.code])


def referral_code_valid(code: str) -> bool:
    return ReferralCode.objects.filter(code=code[:50], is_active=True).exists()


def member_referral_summary(*, user: User) -> dict[str, Any]:
    """The member's code and link (None without a code) and their referrals' results."""
    code = referral_code_of(user=user)
    counts = Referral.objects.filter(referrer=user).aggregate(
        pending=Count("id", filter=Q(status__in=[Referral.Status.PENDING, Referral.Status.HELD])),
        converted=Count("id", filter=Q(status=Referral.Status.CONVERTED)),
        expired=Count("id", filter=Q(status=Referral.Status.EXPIRED)),
        gems=Sum("points_awarded_to_referrer", default=0),
    )
    return {"code": code.code if code else None, "link": referral_link(code=code) if code else None, **counts}


def daily_reward_status(*, user: User) -> dict[str, Any]:
    """Whether today's login reward (the member's calendar day) was credited, and what it is worth.

    ``{"collected": True, "reward": <EngagementReward>, "amount": 5, "streak": 3}`` once credited (at log-in,
    or with the button); otherwise ``collected`` False with the amount the button would credit."""
    today = local_date(user)
    reward = EngagementReward.objects.filter(
        user=user, reward_type=EngagementReward.Type.DAILY_LOGIN, day=today
    ).first()
    amount = reward.reward_amount if reward else reward_settings(accounts_selectors.brand_default())["daily_login"]
    return {
        "collected": reward is not None,
        "reward": reward,
        "amount": amount,
        "streak": reward.streak if reward else 0,
    }


# What members are told about, on the next page they open and in their history.
ANNOUNCED_EVENTS = ["achievement_unlocked", "rank_changed"]


def _announcement_texts(events: list) -> list[dict[str, Any]]:
    """Each event in words: ``{"id", "at", "kind", "text"}`` (two queries for the names, whatever the count)."""
    config_ids = {e.metadata.get("config_id") for e in events if e.event_type == "achievement_unlocked"}
    names = dict(AchievementConfig.objects.filter(pk__in=[i for i in config_ids if i]).values_list("pk", "name"))
    rank_keys = {
        (e.brand_id, key)
        for e in events
        if e.event_type == "rank_changed"
        for key in (e.metadata.get("from"), e.metadata.get("to"))
        if key
    }
    ranks = {}
    if rank_keys:
        brand_ids = {b for b, _ in rank_keys}
        for rank in Rank.objects.filter(brand_id__in=brand_ids, key__in={k for _, k in rank_keys}):
            ranks[(rank.brand_id, rank.key)] = rank
    items = []
    for event in events:
        if event.event_type == "achievement_unlocked":
            name = names.get(event.metadata.get("config_id"), "an achievement")
            gems = f" (+{event.points_awarded} Insight Gems)" if event.points_awarded else ""
            text, kind = f"Achievement unlocked: {name}{gems}!", "achievement"
        else:
            new = ranks.get((event.brand_id, event.metadata.get("to")))
            old = ranks.get((event.brand_id, event.metadata.get("from")))
            brand = event.brand.name if event.brand else "FocusedRoom"
            if new is None:
                text = f"Your rank at {brand} has ended."
            elif old is None or new.points_required > old.points_required:
                bonus = f": ×{new.point_multiplier} gems on scans" if new.point_multiplier != 1 else ""
                text = f"Rank up! You are now {new.name} at {brand}{bonus}."
            else:
                text = f"Your rank at {brand} is now {new.name}."
            kind = "rank"
        items.append({"id": event.pk, "at": event.created_at, "kind": kind, "text": text})
    return items


def announcements_for(*, user: User, after_id: int) -> list[dict[str, Any]]:
    """Unlocks and rank changes since the event ``after_id``, oldest first (at most ten at once)."""
    events = engagement_selectors.events_of_person(user=user, event_types=ANNOUNCED_EVENTS, after_id=after_id, limit=10)
    return _announcement_texts(events)


def announced_up_to(*, user: User) -> int:
    """The id of the member's latest unlock or rank change: nothing before it is news any more."""
    return engagement_selectors.latest_event_id(user=user, event_types=ANNOUNCED_EVENTS)


def milestones_for(*, user: User, limit: int = 20) -> list[dict[str, Any]]:
    """The member's latest unlocks and rank changes, newest first (the history page)."""
    return _announcement_texts(
        engagement_selectors.recent_events_of_person(user=user, event_types=ANNOUNCED_EVENTS, limit=limit)
    )


def redemption_preview(*, user: User, product: Product | None = None, reward_item: RewardItem | None = None) -> dict:
    """What redeeming would cost and leave: the balance now and after, or how many gems are missing."""
    balance = wallet_of(user=user).balance
    cost = product.redemption_cost if product is not None else reward_item.cost
    return {
        "name": product.name if product is not None else reward_item.name,
        "cost": cost,
        "balance": balance,
        "balance_after": balance - cost,
        "missing": max(0, cost - balance),
    }


def dashboard_context(*, user: User, **page: Any) -> dict[str, Any]:
    """The ``/account/`` panel: balance, ranks, achievements, wishlist, goals, ledger, referrals.

    Staff are not loyalty members: their panel is empty (``member`` is False). ``page``
    holds what the account page passes every panel (its request); none of it is used.
    """
    if not accounts_selectors.is_member(user):
        return {"member": False}
    summary = wallet_summary(user=user)
    balance = summary["wallet"].balance
    achievements = list(achievements_for(user=user)[:12])
    goals = list(goals_for(user=user).filter(is_active=True)[:5])
    return {
        "member": True,
        **summary,
        "achievements": [{"config": a, "percent": achievement_percent(a)} for a in achievements],
        "goals": [{"goal": g, **goal_progress(g, balance=balance)} for g in goals],
        "wishlist": list(wishlist_for(user=user)[:6]),
        "entries": list(ledger_for(user=user)[:5]),
        "referrals": member_referral_summary(user=user),
        "daily": daily_reward_status(user=user),
    }


def catalog_products() -> QuerySet[Product]:
    """Active products of active brands, for members."""
    return (
        Product.objects.filter(is_active=True, brand__is_active=True)
        .select_related("brand")
        .order_by("brand__name", "name", "id")
    )


def catalog_reward_items() -> QuerySet[RewardItem]:
    """Active reward items of active brands, for members."""
    return RewardItem.objects.filter(is_active=True, brand__is_active=True).select_related("brand")


def wished_product_ids(*, user: User) -> set[int]:
    return set(WishlistItem.objects.filter(user=user).values_list("product_id", flat=True))


def gems_this_week() -> dict[str, Any]:
    """Gems issued (credits) and spent (debits) since Monday, and the most completed achievements."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    totals = LedgerEntry.objects.filter(created_at__date__gte=monday).aggregate(
        issued=Sum("amount", filter=Q(kind=LedgerEntry.Kind.CREDIT), default=0),
        spent=Sum("amount", filter=Q(kind=LedgerEntry.Kind.DEBIT), default=0),
    )
    top = list(
        UserAchievement.objects.filter(completed=True)
        .values("config_id", "config__name")
        .annotate(completed_count=Count("id"))
        .order_by("-completed_count", "config__name")[:5]
    )
    return {"since": monday, **totals, "top_achievements": top}
