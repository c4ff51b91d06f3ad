"""GDPR: the rewards part of a person's export, and erasure that keeps the ledger exact."""

from __future__ import annotations

import json

import pytest

from accounts import gdpr_services
from rewards import services
from rewards.models import Goal, LedgerEntry, Referral, ReferralCode, WishlistItem


@pytest.mark.django_db
def test_export_contains_the_rewards_part_and_erase_keeps_the_ledger(make_member, product):
    referrer, member = make_member(), make_member()
    services.referral_create_pending(referee=member, code=services.referral_code_ensure(user=referrer)[0].code)
    services.product_scan(user=member, sku=product.sku)
    services.wishlist_add(user=member, product=product)
    services.goal_create(user=member, goal_name="Journal", target_points=1000)
    services.referral_code_ensure(user=member)[0]
    exported = gdpr_services.person_export(user=member)
    part = exported["parts"]["rewards"]
    assert json.loads(json.dumps(part)) == part  # JSON-ready as it is
    assert part["wallet"]["balance"] == 140 and len(part["ledger"]) == 2 and part["wishlist"][0]["product__sku"]
    entries = LedgerEntry.objects.filter(wallet__user=member).count()
    gdpr_services.person_erase(user=member)
    assert LedgerEntry.objects.filter(wallet__user=member).count() == entries
    assert not WishlistItem.objects.filter(user=member).exists() and not Goal.objects.filter(user=member).exists()
    assert not ReferralCode.objects.filter(user=member, is_active=True).exists()
    assert Referral.objects.get(referee=member).email.endswith("@erased.invalid")
    assert services.rewards_audit(store=False).differences == 0


@pytest.mark.django_db
def test_export_has_pending_gems_and_the_expiry_schedule_and_erasure_keeps_them_exact(make_member, product):
    brand = services.brand_default()
    brand.settings = {
        "rewards": {"expiry": {"rule": "period_end", "period": "year"}, "pending_days": {"product_scan": 7}}
    }
    brand.save()
    member = make_member()
    services.product_scan(user=member, sku=product.sku)
    part = gdpr_services.person_export(user=member)["parts"]["rewards"]
    assert [(p["amount"], p["status"]) for p in part["pending_credits"]] == [(40, "pending")]
    assert [s["amount"] for s in part["expiry_schedule"]] == [100]  # the welcome gems, to the end of the year
    gdpr_services.person_erase(user=member)
    assert services.rewards_audit(store=False).is_clean
