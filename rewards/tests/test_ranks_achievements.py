"""Ranks on lifetime earned, achievements evaluated on events and awarded once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction

from engagement.models import Event
from rewards import services, signals
from rewards.models import AchievementConfig, LedgerEntry, MemberRank, Product, UserAchievement, Wallet


@pytest.mark.django_db
def test_rank_follows_lifetime_earned_not_balance_and_changes_are_events(make_member, ranks):
    seen = []

    def on_rank(sender, *, user, brand, old_rank, new_rank, **kwargs):
        seen.append((old_rank.key if old_rank else None, new_rank.key if new_rank else None))

    signals.rank_changed.connect(on_rank)
    try:
        member = make_member()
        services.member_enrol(user=member)
        assert MemberRank.objects.get(user=member).rank.key == "bronze"
        services.gems_debit(user=member, amount=100, reason="redemption", idempotency_key="spend")
        services.gems_credit(user=member, amount=400, reason="adjustment", idempotency_key="earn")
        assert Wallet.objects.get(user=member).balance == 400  # lifetime is 500
        assert MemberRank.objects.get(user=member).rank.key == "silver"
    finally:
        signals.rank_changed.disconnect(on_rank)
    assert seen == [(None, "bronze"), ("bronze", "silver")]
    assert Event.objects.filter(user=member, event_type="rank_changed").count() == 2


@pytest.mark.django_db
def test_reversing_an_earning_can_lower_the_rank(make_member, ranks):
    member = make_member()
    credit = services.gems_credit(user=member, amount=400, reason="adjustment", idempotency_key="earn")
    assert MemberRank.objects.get(user=member).rank.key == "silver"
    services.ledger_reverse(entry=credit, actor=None, reason="mistake")
    assert MemberRank.objects.get(user=member).rank.key == "bronze"


@pytest.mark.django_db
def test_recompute_ranks_after_a_new_rank(make_member, ranks, default_brand):
    member = make_member()
    services.gems_credit(user=member, amount=5000, reason="adjustment", idempotency_key="big")
    ranks[2].points_required = 6000
    ranks[2].save()
    call_command("recompute_ranks")
    assert MemberRank.objects.get(user=member).rank.key == "silver"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("achievement_type", "criteria", "field"),
    [
        ("scan_count", {"metric": "scan_count", "operator": ">=", "value": "5"}, "criteria"),
        ("scan_count", {"metric": "scan_count", "operator": "~", "value": 5}, "criteria"),
        ("scan_count", {"metric": "referral_count", "operator": ">=", "value": 5}, "criteria"),
        ("custom", {"metric": "event_count", "operator": ">=", "value": 5}, "criteria"),
        ("scan_count", {"metric": "scan_count", "operator": ">=", "value": 5, "extra": 1}, "criteria"),
    ],
)
def test_achievement_criteria_are_validated_by_json_schema(achievement_type, criteria, field):
    config = AchievementConfig(
        name="x", achievement_key="x", achievement_type=achievement_type, criteria=criteria, rewards={"points": 1}
    )
    with pytest.raises(ValidationError) as info:
        config.full_clean()
    assert field in info.value.message_dict


def scan_config(brand=None, value=2, points=50, key="two-scans"):
    return AchievementConfig.objects.create(
        brand=brand,
        name="Two scans",
        achievement_key=key,
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": value, "timeframe": "all_time"},
        rewards={"points": points, "badge": "scanner"},
    )


@pytest.mark.django_db
def test_scan_achievement_progresses_then_completes_and_awards_once(make_member, default_brand):
    config = scan_config()
    collector = AchievementConfig.objects.create(
        name="Collector",
        achievement_key="collector",
        achievement_type="achievement_unlocked",
        criteria={"metric": "achievements_unlocked", "operator": ">=", "value": 1},
        rewards={"points": 10},
    )
    unlocked = []
    signals.achievement_unlocked.connect(
        lambda sender, **kw: unlocked.append(kw["config"].achievement_key), weak=False, dispatch_uid="test-unlocked"
    )
    try:
        member = make_member()
        products = [
            Product.objects.create(brand=default_brand, sku=f"S{i}", name=f"S{i}", msrp=10, points_award=5)
            for i in range(3)
        ]
        services.product_scan(user=member, sku="S0")
        row = UserAchievement.objects.get(user=member, config=config)
        assert (row.progress, row.completed) == (1, False)
        services.product_scan(user=member, sku="S1")
        services.product_scan(user=member, sku="S2")
        row.refresh_from_db()
        assert row.completed and row.points_rewarded == 50 and row.progress == 2
        assert UserAchievement.objects.get(user=member, config=collector).completed
        assert LedgerEntry.objects.filter(reason="achievement", wallet__user=member).count() == 2
        assert unlocked == ["two-scans", "collector"]
        assert Event.objects.filter(user=member, event_type="achievement_unlocked").count() == 2
        # Completion is final in the database.
        with pytest.raises(Exception, match="completion_final|Cannot"), transaction.atomic():
            UserAchievement.objects.filter(pk=row.pk).update(completed=False, completed_at=None)
        assert len(products) == 3
    finally:
        signals.achievement_unlocked.disconnect(dispatch_uid="test-unlocked")


@pytest.mark.django_db
def test_brand_achievement_only_counts_that_brands_products(make_member, default_brand, other_brand):
    config = scan_config(brand=other_brand, value=1, key="calm-first")
    member = make_member()
    Product.objects.create(brand=default_brand, sku="FR1", name="FR1", msrp=1, points_award=1)
    Product.objects.create(brand=other_brand, sku="CC1", name="CC1", msrp=1, points_award=1)
    services.product_scan(user=member, sku="FR1")
    assert not UserAchievement.objects.get(user=member, config=config).completed
    services.product_scan(user=member, sku="CC1", brand="calm-co")
    assert UserAchievement.objects.get(user=member, config=config).completed


@pytest.mark.django_db
def test_recompute_achievements_rebuilds_progress_after_a_criterion_change(make_member, default_brand):
    config = scan_config(value=5)
    member = make_member()
    Product.objects.create(brand=default_brand, sku="A", name="A", msrp=1, points_award=1)
    services.product_scan(user=member, sku="A")
    assert not UserAchievement.objects.get(user=member, config=config).completed
    config.criteria = {"metric": "scan_count", "operator": ">=", "value": 1}
    config.save()
    call_command("recompute_achievements")
    call_command("recompute_achievements", "--key", "two-scans")
    row = UserAchievement.objects.get(user=member, config=config)
    assert row.completed and LedgerEntry.objects.filter(reason="achievement").count() == 1


@pytest.mark.django_db
def test_wishlist_and_referral_and_custom_achievements(make_member, product):
    AchievementConfig.objects.create(
        name="Wisher",
        achievement_key="wisher",
        achievement_type="wishlist_items",
        criteria={"metric": "wishlist_items", "operator": ">=", "value": 1},
        rewards={"points": 5},
    )
    AchievementConfig.objects.create(
        name="Ambassador",
        achievement_key="ambassador",
        achievement_type="referral_count",
        criteria={"metric": "referral_count", "operator": ">=", "value": 1, "timeframe": "month"},
        rewards={"points": 5},
    )
    AchievementConfig.objects.create(
        name="Redeemer",
        achievement_key="redeemer",
        achievement_type="custom",
        criteria={"metric": "event_count", "event_type": "wishlist_added", "operator": ">=", "value": 1},
        rewards={"points": 0},
    )
    member, friend = make_member(), make_member()
    services.wishlist_add(user=member, product=product)
    services.referral_create_pending(referee=friend, code=services.referral_code_ensure(user=member)[0].code)
    services.referral_convert(referee=friend)
    services.achievements_evaluate(user=member, types=["custom"])
    done = set(
        UserAchievement.objects.filter(user=member, completed=True).values_list("config__achievement_key", flat=True)
    )
    assert done == {"wisher", "ambassador", "redeemer"}


@pytest.mark.django_db
def test_my_achievements_api_lists_active_ones_with_my_progress(member_client, member, default_brand):
    config = scan_config(value=4)
    AchievementConfig.objects.create(
        name="Hidden",
        achievement_key="hidden",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
        is_active=False,
    )
    Product.objects.create(brand=default_brand, sku="A", name="A", msrp=1, points_award=1)
    services.product_scan(user=member, sku="A")
    rows = member_client.get("/api/v1/me/achievements/").json()["results"]
    assert [(r["achievement_key"], r["progress"], r["percent"], r["completed"]) for r in rows] == [
        (config.achievement_key, "1.00", 25, False)
    ]
