"""Ranks: a member's rank in every brand follows their lifetime earned gems."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from engagement import services as engagement_services
from focusedroom.context import RequestContext
from rewards import signals
from rewards.models import MemberRank, Rank, Wallet
from rewards.services.common import member_require

if TYPE_CHECKING:
    from accounts.models import User


def rank_for(*, brand_id: int, lifetime: int) -> Rank | None:
    """The brand's highest active rank reached with this lifetime earned."""
    return (
        Rank.objects.filter(brand_id=brand_id, is_active=True, points_required__lte=lifetime)
        .order_by("-points_required")
        .first()
    )


def rank_recompute(
    *, user: User, lifetime: int | None = None, context: RequestContext | None = None
) -> list[MemberRank]:
    """Bring the member's rank in every brand in line with their lifetime earned.

    Each change is an event (``rank_changed`` in the event log and the
    ``rewards.signals.rank_changed`` signal). Returns the rows that changed.
    """
    member_require(user)
    if lifetime is None:
        lifetime = Wallet.objects.filter(user=user).values_list("lifetime_earned", flat=True).first() or 0
    targets = {
        r.brand_id: r
        for r in Rank.objects.filter(is_active=True, points_required__lte=lifetime)
        .select_related("brand")
        .order_by("brand_id", "-points_required")
        .distinct("brand_id")
    }
    current = {
        m.brand_id: m
        for m in MemberRank.objects.select_for_update(of=("self",)).select_related("rank").filter(user=user)
    }
    changed = []
    now = timezone.now()
    for brand_id in sorted(set(targets) | set(current)):
        new_rank = targets.get(brand_id)
        row = current.get(brand_id)
        old_rank = row.rank if row else None
        if (new_rank.pk if new_rank else None) == (old_rank.pk if old_rank else None):
            continue
        if row is None:
            row = MemberRank.objects.create(user=user, brand_id=brand_id, rank=new_rank, changed_at=now)
        else:
            row.rank, row.changed_at = new_rank, now
            row.save(update_fields=["rank", "changed_at"])
        brand = new_rank.brand if new_rank else accounts_selectors.brand_get(brand_id)
        engagement_services.event_record(
            event_type="rank_changed",
            user=user,
            brand=brand,
            metadata={
                "from": old_rank.key if old_rank else None,
                "to": new_rank.key if new_rank else None,
                "lifetime_earned": lifetime,
            },
            context=context,
        )
        signals.rank_changed.send(
            sender=MemberRank, user=user, brand=brand, old_rank=old_rank, new_rank=new_rank, context=context
        )
        changed.append(row)
    return changed


def ranks_recompute_all(*, batch_size: int = 1000, context: RequestContext | None = None) -> int:
    """Recompute every member's ranks (after the rank configuration changed)."""
    changed = 0
    last = 0
    while True:
        batch = list(
            Wallet.objects.filter(user_id__gt=last, user__is_staff=False)
            .order_by("user_id")
            .values_list("user_id", "lifetime_earned")[:batch_size]
        )
        if not batch:
            return changed
        users = accounts_selectors.people(include_deleted=True).in_bulk([uid for uid, _ in batch])
        for user_id, lifetime in batch:
            with transaction.atomic():
                changed += len(rank_recompute(user=users[user_id], lifetime=lifetime, context=context))
        last = batch[-1][0]
