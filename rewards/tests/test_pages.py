"""Member pages: the /account/ panel, history, scan form, catalogue, goals; demo data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from rewards import demo, services
from rewards.models import AchievementConfig, LedgerEntry, Product, Rank, Redemption, Wallet, WishlistItem


@pytest.fixture
def logged_in(client, make_member):
    member = make_member()
    client.force_login(member)
    return client, member


@pytest.mark.django_db
def test_account_page_shows_the_gems_panel(logged_in, product, ranks):
    client, member = logged_in
    services.wishlist_add(user=member, product=product)
    services.goal_create(user=member, goal_name="Coaching", target_points=900)
    AchievementConfig.objects.create(
        name="First scan",
        achievement_key="first",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
    )
    page = client.get("/account/")
    html = page.content.decode()
    assert page.status_code == 200
    for text in (
        "Insight Gems",
        "105",
        "Bronze",
        "Silver",
        "First scan",
        "Coaching",
        product.name,
        "Daily login reward",
        "Welcome gift",
        "/r/",
        "rewards/rewards.css",
    ):
        assert text in html, text


@pytest.mark.django_db
def test_history_is_paginated_with_reasons_in_words(logged_in):
    client, member = logged_in
    for i in range(30):
        services.gems_credit(user=member, amount=1, reason="adjustment", idempotency_key=f"h{i}")
    first = client.get(reverse("rewards-history")).content.decode()
    assert "Adjustment by our support team" in first and "Page 1 of 2" in first
    second = client.get(reverse("rewards-history") + "?page=2").content.decode()
    assert "Welcome gift" in second
    assert client.get(reverse("rewards-history") + "?page=abc").status_code == 200


@pytest.mark.django_db
def test_scan_form_awards_and_shows_errors_next_to_the_field(logged_in, product):
    client, member = logged_in
    page = client.get(reverse("rewards-scan"))
    assert page.status_code == 200 and b'for="id_sku"' in page.content and b"csrfmiddlewaretoken" in page.content
    bad = client.post(reverse("rewards-scan"), {"sku": "NOPE", "brand": "focusedroom"})
    assert bad.status_code == 400 and b"We do not know the product code" in bad.content
    assert b"focusedroom" not in bad.content.split(b"errorlist")[1][:300]  # no internal brand slug in the message
    ok = client.post(reverse("rewards-scan"), {"sku": product.sku, "brand": "focusedroom"}, follow=True)
    assert b"+40 Insight Gems" in ok.content
    assert LedgerEntry.objects.filter(reason="product_scan", wallet__user=member).count() == 1


@pytest.mark.django_db
def test_daily_claim_button_and_pages_need_login(client, logged_in):
    c, member = logged_in
    account = c.get(reverse("account")).content.decode()
    assert "Today's reward is in: +5 gems" in account  # force_login already credited it: no button
    assert reverse("rewards-daily") not in account
    response = c.post(reverse("rewards-daily"), follow=True)
    assert b"already in your balance" in response.content
    c.logout()
    for name in ("rewards-history", "rewards-scan", "rewards-catalog", "rewards-goal-new"):
        assert c.get(reverse(name)).status_code == 302


@pytest.mark.django_db
def test_catalog_wishlist_and_redeem_forms(logged_in, product):
    client, member = logged_in
    page = client.get(reverse("rewards-catalog"))
    assert page.status_code == 200 and product.name.encode() in page.content
    client.post(reverse("rewards-wishlist-add", args=[product.pk]))
    assert WishlistItem.objects.filter(user=member, product=product).exists()
    balance = Wallet.objects.get(user=member).balance
    # Redeeming asks first, with the balance after.
    assert f'action="{reverse("rewards-redeem-confirm")}"' in page.content.decode()
    confirm = client.get(reverse("rewards-redeem-confirm"), {"product": product.pk})
    assert f"{balance - 80} gems" in confirm.content.decode() and b"Yes, redeem for 80 gems" in confirm.content
    assert Redemption.objects.filter(user=member).count() == 0  # asking spends nothing
    key = confirm.context["form_key"]
    for _ in range(2):  # a double submit redeems once
        done = client.post(reverse("rewards-redeem"), {"product": product.pk, "idempotency_key": key}, follow=True)
    assert Redemption.objects.filter(user=member).count() == 1
    assert f"Your balance is now {balance - 80} gems" in done.content.decode()
    # A reward the balance cannot pay says how many gems are missing, here and on the confirmation.
    catalog = client.get(reverse("rewards-catalog")).content.decode()
    assert f"{80 - (balance - 80)} more gems needed" in catalog
    short_page = client.get(reverse("rewards-redeem-confirm"), {"product": product.pk}).content.decode()
    assert f"You need {80 - (balance - 80)} more gems" in short_page and "Yes, redeem" not in short_page
    short = client.post(reverse("rewards-redeem"), {"product": product.pk, "idempotency_key": "other"}, follow=True)
    assert b"Not enough Insight Gems" in short.content
    item = WishlistItem.objects.get(user=member)
    client.post(reverse("rewards-wishlist-remove", args=[item.pk]))
    assert not WishlistItem.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_goal_form(logged_in, product):
    client, member = logged_in
    bad = client.post(reverse("rewards-goal-new"), {"goal_name": "Save"})
    assert bad.status_code == 400 and b"Enter the number of gems to reach." in bad.content
    ok = client.post(reverse("rewards-goal-new"), {"goal_name": "Journal", "product": product.pk})
    assert ok.status_code == 302 and member.goals.get().target_points == 80


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_gives_members_gems():
    from accounts import demo as accounts_demo

    accounts_demo.seed(scale=12)
    first = demo.seed(scale=12)
    counts = (Product.objects.count(), Rank.objects.count(), LedgerEntry.objects.count())
    second = demo.seed(scale=12)
    assert (Product.objects.count(), Rank.objects.count(), LedgerEntry.objects.count()) == counts
    assert "products" in first and "0 members' gems seeded" in second
    member = User.objects.get(email="demo.customer00001@example.com")
    assert member.wallet.balance > 100
    assert services.rewards_audit(store=False).differences == 0
