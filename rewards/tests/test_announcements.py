"""Unlocks and rank-ups are announced on the next page the member opens (once), and listed in the history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import CustomerFactory
from rewards import announcements, services
from rewards.models import AchievementConfig, Product, Rank

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-42"


@pytest.fixture
def scan_achievement(default_brand):
    return AchievementConfig.objects.create(
        brand=default_brand,
        name="First scan",
        achievement_key="first-scan",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
        rewards={"points": 15},
    )


def log_in(client, member):
    response = client.post(reverse("login"), {"username": member.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_an_unlock_is_announced_on_the_next_page_once(client, product, scan_achievement):
    member = CustomerFactory(password=PASSWORD)
    log_in(client, member)
    first = client.get(reverse("account"))
    assert "Achievement unlocked" not in messages_of(first)
    client.post(reverse("rewards-scan"), {"sku": "fr-journal", "brand": "focusedroom"})  # any letter case
    page = client.get(reverse("rewards-scan"))
    assert "Achievement unlocked: First scan (+15 Insight Gems)!" in messages_of(page)
    again = client.get(reverse("account"))
    assert "Achievement unlocked" not in messages_of(again)  # once
    history = client.get(reverse("rewards-history")).content.decode()
    assert "Milestones" in history and "Achievement unlocked: First scan" in history


def test_a_rank_up_earned_by_the_log_in_itself_is_announced_after_it(client, default_brand):
    Rank.objects.create(brand=default_brand, key="explorer", name="Explorer", points_required=0)
    Rank.objects.create(
        brand=default_brand, key="regular", name="Regular", points_required=105, point_multiplier="1.25"
    )
    member = CustomerFactory(password=PASSWORD)
    services.member_enrol(user=member)  # 100 welcome gems: Explorer; today's 5 at log-in make 105: Regular
    services.rank_recompute(user=member)
    log_in(client, member)
    page = client.get(reverse("account"))
    assert "Rank up! You are now Regular at FocusedRoom: ×1.25 gems on scans." in messages_of(page)
    assert "Rank up" not in messages_of(client.get(reverse("account")))


def test_a_browser_that_never_announced_starts_quietly_and_another_member_does_not_inherit_the_mark(
    client, product, scan_achievement
):
    member = CustomerFactory(password=PASSWORD)
    services.member_enrol(user=member)
    services.product_scan(user=member, sku=product.sku)  # an unlock before this browser knew the member
    client.force_login(member)
    client.cookies.pop(announcements.COOKIE, None)
    assert "Achievement unlocked" not in messages_of(client.get(reverse("account")))
    other = CustomerFactory(password=PASSWORD)
    cookie = client.cookies[announcements.COOKIE].value
    client.force_login(other)
    client.cookies[announcements.COOKIE] = cookie  # the first member's mark
    assert client.get(reverse("account")).status_code == 200
    assert client.cookies[announcements.COOKIE].value != cookie


def test_pages_of_anonymous_visitors_and_the_api_are_left_alone(client, api_client, member):
    assert announcements.COOKIE not in client.get("/").cookies
    api_client.force_authenticate(member)
    assert announcements.COOKIE not in api_client.get("/api/v1/me/wallet/").cookies
    assert Product.objects.count() == 0
