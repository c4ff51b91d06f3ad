"""Object-level isolation, authentication, staff permissions and query budgets of the API."""

from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from rewards import services
from rewards.models import AchievementConfig, Goal, Product, Rank, RewardItem, Wallet


@pytest.fixture
def two_members(make_member, product):
    """Two members, each with gems, scans, a redemption, a wishlist item, a goal and a referral."""
    people = []
    for _ in range(2):
        member = make_member()
        services.gems_credit(user=member, amount=500, reason="adjustment", idempotency_key=f"fund-{member.pk}")
        services.product_scan(user=member, sku=product.sku)
        redemption, _ = services.redemption_create(user=member, product=product)
        item, _ = services.wishlist_add(user=member, product=product)
        goal = services.goal_create(user=member, goal_name="Save", target_points=5000)
        services.referral_create_pending(referee=make_member(), code=services.referral_code_ensure(user=member)[0].code)
        client = APIClient()
        client.force_authenticate(member)
        people.append({"user": member, "client": client, "redemption": redemption, "item": item, "goal": goal})
    return people


@pytest.mark.django_db
def test_a_member_never_reads_or_changes_another_members_records(two_members):
    me, other = two_members
    c = me["client"]
    assert c.get(f"/api/v1/redemptions/{other['redemption'].pk}/").status_code == 404
    assert c.get(f"/api/v1/me/goals/{other['goal'].pk}/").status_code == 404
    assert c.patch(f"/api/v1/me/goals/{other['goal'].pk}/", {"goal_name": "hacked"}).status_code == 404
    assert c.delete(f"/api/v1/me/goals/{other['goal'].pk}/").status_code == 404
    assert c.delete(f"/api/v1/me/wishlist/{other['item'].pk}/").status_code == 404
    assert c.post(f"/api/v1/redemptions/{other['redemption'].pk}/reverse/", {"reason": "x"}).status_code == 403
    assert Goal.objects.get(pk=other["goal"].pk).goal_name == "Save"
    mine = {
        "/api/v1/me/transactions/": me["user"].wallet.entries.values_list("pk", flat=True),
        "/api/v1/scans/": me["user"].product_scans.values_list("pk", flat=True),
        "/api/v1/redemptions/": me["user"].redemptions.values_list("pk", flat=True),
        "/api/v1/me/wishlist/": me["user"].wishlist.values_list("pk", flat=True),
        "/api/v1/me/goals/": me["user"].goals.values_list("pk", flat=True),
        "/api/v1/me/referrals/": me["user"].referrals_made.values_list("pk", flat=True),
    }
    for url, ids in mine.items():
        got = {row["id"] for row in c.get(url).json()["results"]}
        assert got == set(ids), url
    wallet = c.get("/api/v1/me/wallet/").json()
    assert wallet["balance"] == Wallet.objects.get(user=me["user"]).balance


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/me/wallet/",
        "/api/v1/me/transactions/",
        "/api/v1/me/achievements/",
        "/api/v1/me/wishlist/",
        "/api/v1/me/goals/",
        "/api/v1/me/referrals/",
        "/api/v1/scans/",
        "/api/v1/redemptions/",
        "/api/v1/products/",
    ],
)
def test_member_endpoints_need_authentication(api_client, url):
    assert api_client.get(url).status_code == 401


@pytest.mark.django_db
def test_posts_need_authentication(api_client):
    for url in ("/api/v1/me/daily-reward/", "/api/v1/scans/", "/api/v1/redemptions/"):
        assert api_client.post(url, {}).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/me/transactions/",
        "/api/v1/me/achievements/",
        "/api/v1/me/wishlist/",
        "/api/v1/me/goals/",
        "/api/v1/me/referrals/",
        "/api/v1/scans/",
        "/api/v1/redemptions/",
        "/api/v1/me/wallet/",
    ],
)
def test_member_lists_have_a_query_budget_independent_of_rows(
    url, member_client, member, default_brand, django_assert_max_num_queries, make_member
):
    def grow(n, tag):
        for i in range(n):
            p = Product.objects.create(
                brand=default_brand, sku=f"{tag}{i}", name=f"{tag}{i}", msrp=3, points_award=5, redemption_cost=1
            )
            services.product_scan(user=member, sku=p.sku)
            services.redemption_create(user=member, product=p)
            services.wishlist_add(user=member, product=p)
            services.goal_create(user=member, goal_name=f"g{tag}{i}", target_points=100000)
            services.referral_create_pending(
                referee=make_member(), code=services.referral_code_ensure(user=member)[0].code
            )
            AchievementConfig.objects.create(
                name=f"a{tag}{i}",
                achievement_key=f"a{tag}{i}",
                achievement_type="wishlist_items",
                criteria={"metric": "wishlist_items", "operator": ">=", "value": 1000},
                rewards={"points": 1},
            )
            Rank.objects.create(brand=default_brand, key=f"r{tag}{i}", name="R", points_required=10000 + 100 * n + i)

    grow(2, "a")
    member_client.get(url)  # warm the caches (content types, the default brand)
    with django_assert_max_num_queries(12) as small:
        assert member_client.get(url).status_code == 200
    grow(8, "b")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert member_client.get(url).status_code == 200


@pytest.mark.django_db
def test_catalog_members_read_active_products_staff_manage_with_permissions(
    member_client, product, staff_client, default_brand
):
    Product.objects.create(brand=default_brand, sku="OLD", name="Old", msrp=1, points_award=1, is_active=False)
    assert {p["sku"] for p in member_client.get("/api/v1/products/").json()["results"]} == {product.sku}
    assert member_client.post("/api/v1/products/", {}).status_code == 403
    viewer = staff_client("rewards.view_product")
    assert viewer.get("/api/v1/products/").json()["count"] == 2
    assert viewer.post("/api/v1/products/", {}).status_code == 403
    editor = staff_client("rewards.view_product", "rewards.add_product", "rewards.change_product")
    payload = {"brand": "focusedroom", "sku": "NEW-1", "name": "New", "msrp": "9.50", "points_award": 10}
    created = editor.post("/api/v1/products/", payload)
    assert created.status_code == 201, created.json()
    dup = editor.post("/api/v1/products/", payload)
    assert dup.status_code == 400
    bad = editor.post("/api/v1/products/", {**payload, "sku": "NEW-2", "msrp": "-1", "tags": "x", "redemption_cost": 0})
    assert bad.status_code == 400 and {"tags"} <= set(bad.json()["error"]["fields"])
    zero = editor.post("/api/v1/products/", {**payload, "sku": "NEW-2", "redemption_cost": 0})
    assert zero.status_code == 400
    negative = editor.post("/api/v1/products/", {**payload, "sku": "NEW-2", "msrp": "-1"})
    assert negative.status_code == 400
    items = staff_client("rewards.view_rewarditem", "rewards.add_rewarditem")
    assert (
        items.post(
            "/api/v1/reward-items/", {"brand": "focusedroom", "key": "call", "name": "Call", "cost": 0}
        ).status_code
        == 400
    )
    assert (
        items.post(
            "/api/v1/reward-items/", {"brand": "focusedroom", "key": "call", "name": "Call", "cost": 9}
        ).status_code
        == 201
    )
    assert RewardItem.objects.count() == 1


@pytest.mark.django_db
def test_staff_ranks_and_achievement_configs_need_model_permissions(member_client, staff_client):
    assert member_client.get("/api/v1/ranks/").status_code == 403
    assert member_client.get("/api/v1/achievement-configs/").status_code == 403
    ranks = staff_client("rewards.view_rank", "rewards.add_rank")
    bad = ranks.post(
        "/api/v1/ranks/",
        {"brand": "focusedroom", "key": "x", "name": "X", "points_required": 1, "point_multiplier": "9.00"},
    )
    assert bad.status_code == 400 and "point_multiplier" in bad.json()["error"]["fields"]
    ok = ranks.post(
        "/api/v1/ranks/",
        {"brand": "focusedroom", "key": "x", "name": "X", "points_required": 1, "point_multiplier": "1.25"},
    )
    assert ok.status_code == 201
    same_threshold = ranks.post(
        "/api/v1/ranks/", {"brand": "focusedroom", "key": "y", "name": "Y", "points_required": 1}
    )
    assert same_threshold.status_code == 400
    configs = staff_client(
        "rewards.view_achievementconfig", "rewards.add_achievementconfig", "rewards.change_achievementconfig"
    )
    payload = {
        "name": "First",
        "achievement_key": "first",
        "achievement_type": "scan_count",
        "criteria": {"metric": "scan_count", "operator": ">=", "value": 1},
        "rewards": {"points": 10},
    }
    assert configs.post("/api/v1/achievement-configs/", payload).status_code == 201
    dup = configs.post("/api/v1/achievement-configs/", payload)
    assert dup.status_code == 400 and "already exists" in str(dup.json()["error"]["fields"])
    bad = configs.post(
        "/api/v1/achievement-configs/", {**payload, "achievement_key": "b", "criteria": {"metric": "nope"}}
    )
    assert bad.status_code == 400 and "criteria" in bad.json()["error"]["fields"]
    listing = configs.get("/api/v1/achievement-configs/").json()
    assert listing["count"] == 1


@pytest.mark.django_db
def test_staff_lists_have_query_budgets(staff_client, default_brand, django_assert_max_num_queries):
    client = staff_client(
        "rewards.view_product", "rewards.view_rank", "rewards.view_achievementconfig", "rewards.view_rewarditem"
    )

    thresholds = itertools.count(1)

    def grow(n, tag):
        for i in range(n):
            Product.objects.create(brand=default_brand, sku=f"{tag}{i}", name="p", msrp=1, points_award=1)
            Rank.objects.create(brand=default_brand, key=f"{tag}{i}", name="r", points_required=next(thresholds))
            RewardItem.objects.create(brand=default_brand, key=f"{tag}{i}", name="r", cost=1)
            AchievementConfig.objects.create(
                name="a",
                achievement_key=f"{tag}{i}",
                achievement_type="scan_count",
                criteria={"metric": "scan_count", "operator": ">=", "value": 1},
            )

    for url in ("/api/v1/products/", "/api/v1/ranks/", "/api/v1/achievement-configs/", "/api/v1/reward-items/"):
        grow(2, url[8:11])
        with django_assert_max_num_queries(12) as small:
            assert client.get(url).status_code == 200
        grow(10, url[8:11] + "x")
        with django_assert_max_num_queries(len(small.captured_queries)):
            assert client.get(url).status_code == 200
