"""Operator console: read-only ledger and wallets, adjust and reverse actions, query budgets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import sync_roles
from accounts.tests.factories import StaffFactory
from rewards import services
from rewards.models import AchievementConfig, AuditRun, LedgerEntry, Redemption, Wallet


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, password="admin-pass-123")


@pytest.fixture
def support(db):
    sync_roles()
    user = StaffFactory()
    user.groups.add(Group.objects.get(name="Support"))
    return user


@pytest.mark.django_db
def test_ledger_and_wallets_are_read_only_in_the_console(client, superuser, make_member):
    member = make_member()
    entry = services.gems_credit(user=member, amount=10, reason="adjustment", idempotency_key="x")
    client.force_login(superuser)
    assert client.get(reverse("admin:rewards_ledgerentry_add")).status_code == 403
    page = client.get(reverse("admin:rewards_ledgerentry_change", args=[entry.pk]))
    assert page.status_code == 200 and b'name="amount"' not in page.content
    client.post(reverse("admin:rewards_ledgerentry_change", args=[entry.pk]), {"amount": 999})
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 10
    assert client.get(reverse("admin:rewards_ledgerentry_delete", args=[entry.pk])).status_code == 403
    wallet = Wallet.objects.get(user=member)
    assert client.get(reverse("admin:rewards_wallet_delete", args=[wallet.pk])).status_code == 403


@pytest.mark.django_db
def test_support_adjusts_a_balance_through_the_intermediate_form(client, support, make_member):
    member = make_member()
    wallet = services.member_enrol(user=member)
    client.force_login(support)
    url = reverse("admin:rewards_wallet_changelist")
    form = client.post(url, {"action": "adjust_balance", "_selected_action": [wallet.pk]})
    assert form.status_code == 200 and b"Adjust balance" in form.content
    key = form.context["form"].initial["idempotency_key"]
    bad = client.post(
        url,
        {
            "action": "adjust_balance",
            "_selected_action": [wallet.pk],
            "apply": "1",
            "amount": "0",
            "reason": "",
            "idempotency_key": key,
        },
    )
    assert bad.status_code == 200 and bad.context["form"].errors.keys() == {"amount", "reason"}
    data = {
        "action": "adjust_balance",
        "_selected_action": [wallet.pk],
        "apply": "1",
        "amount": "-40",
        "reason": "Duplicate gift",
        "idempotency_key": key,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a double submit writes nothing more
    entry = LedgerEntry.objects.get(reason="adjustment")
    assert (entry.kind, entry.amount, entry.actor, entry.description) == ("DEBIT", 40, support, "Duplicate gift")
    assert Wallet.objects.get(pk=wallet.pk).balance == 60
    too_much = {**data, "amount": "-1000", "idempotency_key": "other"}
    response = client.post(url, too_much, follow=True)
    assert b"Not enough Insight Gems" in response.content
    assert Wallet.objects.get(pk=wallet.pk).balance == 60


@pytest.mark.django_db
def test_marketing_cannot_adjust_balances(client, make_member):
    sync_roles()
    marketer = StaffFactory()
    marketer.groups.add(Group.objects.get(name="Marketing"))
    wallet = services.member_enrol(user=make_member())
    client.force_login(marketer)
    page = client.get(reverse("admin:rewards_wallet_changelist"))
    assert page.status_code == 200 and b"adjust_balance" not in page.content
    client.post(
        reverse("admin:rewards_wallet_changelist"),
        {
            "action": "adjust_balance",
            "_selected_action": [wallet.pk],
            "apply": "1",
            "amount": "5",
            "reason": "x",
            "idempotency_key": "k",
        },
    )
    assert not LedgerEntry.objects.filter(reason="adjustment").exists()


@pytest.mark.django_db
def test_support_reverses_a_redemption_and_a_ledger_entry(client, support, make_member, product):
    member = make_member()
    redemption, _ = services.redemption_create(user=member, product=product)
    client.force_login(support)
    url = reverse("admin:rewards_redemption_changelist")
    client.post(
        url, {"action": "reverse_redemptions", "_selected_action": [redemption.pk], "apply": "1", "reason": "Damaged"}
    )
    redemption.refresh_from_db()
    assert redemption.status == "reversed" and redemption.reversal_reason == "Damaged"
    credit = services.gems_credit(user=member, amount=5, reason="adjustment", idempotency_key="five")
    client.post(
        reverse("admin:rewards_ledgerentry_changelist"),
        {"action": "reverse_entries", "_selected_action": [credit.pk], "apply": "1", "reason": "Oops"},
    )
    assert LedgerEntry.objects.filter(reverses=credit).count() == 1


@pytest.mark.django_db
def test_achievement_config_admin_validates_criteria(client, superuser):
    client.force_login(superuser)
    data = {
        "name": "Bad",
        "achievement_key": "bad",
        "achievement_type": "scan_count",
        "criteria": '{"metric": "scan_count", "operator": "!!", "value": 1}',
        "rewards": "{}",
        "visibility": "{}",
        "metadata": "{}",
        "is_active": "on",
    }
    response = client.post(reverse("admin:rewards_achievementconfig_add"), data)
    assert response.status_code == 200 and "criteria" in response.context["adminform"].form.errors
    data["criteria"] = '{"metric": "scan_count", "operator": ">=", "value": 1}'
    assert client.post(reverse("admin:rewards_achievementconfig_add"), data).status_code == 302
    dup = client.post(reverse("admin:rewards_achievementconfig_add"), data)
    assert dup.status_code == 200 and AchievementConfig.objects.count() == 1


@pytest.mark.django_db
def test_audit_runs_are_visible_to_ops(client):
    sync_roles()
    ops = StaffFactory()
    ops.groups.add(Group.objects.get(name="Ops"))
    services.rewards_audit()
    client.force_login(ops)
    page = client.get(reverse("admin:rewards_auditrun_changelist"))
    assert page.status_code == 200 and AuditRun.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [
        "wallet",
        "ledgerentry",
        "redemption",
        "referral",
        "product",
        "rank",
        "achievementconfig",
        "auditrun",
        "productscan",
        "engagementreward",
        "userachievement",
        "memberrank",
        "rewarditem",
    ],
)
def test_changelists_have_query_budgets(
    client, superuser, make_member, product, ranks, model, django_assert_max_num_queries
):
    client.force_login(superuser)
    url = reverse(f"admin:rewards_{model}_changelist")
    AchievementConfig.objects.create(
        name="A",
        achievement_key="a",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
    )

    def grow(n):
        for _ in range(n):
            m = make_member()
            services.product_scan(user=m, sku=product.sku)
            services.redemption_create(user=m, product=product)
            services.daily_reward_claim(user=m)
            services.referral_create_pending(referee=make_member(), code=services.referral_code_ensure(user=m)[0].code)
            services.rewards_audit()

    grow(2)
    with django_assert_max_num_queries(20) as small:
        assert client.get(url).status_code == 200
    grow(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
    assert Redemption.objects.count() == 8
