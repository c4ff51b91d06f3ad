"""The rewards part of GDPR export and erasure (registered in ``focusedroom.registries``).

Export: wallet, ledger, pending credits, the expiry schedule, engagement rewards, scans,
redemptions, referrals (made and received, with the address and browser id a received
one was made from), achievements, wishlist and goals. Erasure keeps the ledger and the
wallet — the immutable accounting record, which holds no contact data — with the lot
records of the expiry job and the pending credits (amounts and dates only), and
everything that feeds aggregates (scans, redemptions, achievements); it deletes the
wishlist, goals and stored API answers, deactivates the referral code and removes the
email, IP address and browser id kept on a referral the person received.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from rewards import selectors, services
from rewards.models import (
    EngagementReward,
    Goal,
    LedgerEntry,
    PendingCredit,
    ProductScan,
    Redemption,
    Referral,
    ReferralCode,
    UserAchievement,
    Wallet,
    WishlistItem,
)


def export(*, user) -> dict[str, Any]:
    """JSON-ready data (dates as ISO strings, decimals as strings)."""
    wallet = Wallet.objects.filter(user=user).values("balance", "lifetime_earned", "created_at").first()
    data = {
        "wallet": wallet,
        "ledger": list(
            LedgerEntry.objects.filter(wallet__user=user)
            .order_by("created_at", "id")
            .values("created_at", "kind", "amount", "reason", "description", "brand__slug", "reverses_id", "id")
        ),
        "engagement_rewards": list(
            EngagementReward.objects.filter(user=user)
            .order_by("created_at")
            .values("created_at", "reward_type", "reward_amount", "day", "streak")
        ),
        "product_scans": list(
            ProductScan.objects.filter(user=user)
            .order_by("created_at")
            .values("created_at", "product__sku", "product__brand__slug", "day", "points_awarded")
        ),
        "redemptions": list(
            Redemption.objects.filter(user=user)
            .order_by("created_at")
            .values("created_at", "product__sku", "reward_item__key", "cost", "status", "reversed_at")
        ),
        "pending_credits": list(
            PendingCredit.objects.filter(user=user)
            .order_by("created_at")
            .values(
                "created_at",
                "amount",
                "reason",
                "description",
                "status",
                "release_at",
                "released_at",
                "cancelled_at",
                "cancel_reason",
            )
        ),
        "expiry_schedule": [
            {"expires_at": slot["expires_at"], "amount": slot["amount"]}
            for slot in selectors.expiry_schedule(user=user)["schedule"]
        ],
        "referral_codes": list(ReferralCode.objects.filter(user=user).values("code", "is_active", "created_at")),
        "referrals_made": list(
            Referral.objects.filter(referrer=user)
            .order_by("created_at")
            .values("created_at", "status", "converted_at", "points_awarded_to_referrer")
        ),
        "referral_received": Referral.objects.filter(referee=user)
        .values("created_at", "status", "converted_at", "points_awarded_to_referee", "ip_address", "visitor_id")
        .first(),
        "achievements": list(
            UserAchievement.objects.filter(user=user)
            .order_by("created_at")
            .values("config__achievement_key", "progress", "completed", "completed_at", "points_rewarded")
        ),
        "wishlist": list(
            WishlistItem.objects.filter(user=user).order_by("added_at").values("product__sku", "added_at")
        ),
        "goals": list(
            Goal.objects.filter(user=user)
            .order_by("started_at")
            .values("goal_name", "goal_type", "target_points", "is_active", "started_at", "completed_at")
        ),
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@transaction.atomic
def erase(*, user) -> None:
    services.referral_data_erase(user=user)
    services.wishlist_goals_erase(user=user)
    services.idempotency_erase(user=user)
