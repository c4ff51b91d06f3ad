"""Ledger writes from real parallel database connections."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from focusedroom.testing import run_in_parallel
from rewards import services
from rewards.models import EngagementReward, IdempotencyRecord, LedgerEntry, Wallet


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_debits_of_10_from_100_leave_ten_successes_and_zero(make_member):
    member = make_member()
    services.member_enrol(user=member)
    results, errors = run_in_parallel(
        50,
        lambda i: services.gems_debit(
            user=member, amount=10, reason=LedgerEntry.Reason.REDEMPTION, idempotency_key=f"debit-{i}"
        ),
    )
    assert len(results) == 10
    assert len(errors) == 40 and all(isinstance(e, services.InsufficientGems) for e in errors)
    wallet = Wallet.objects.get(user=member)
    assert wallet.balance == 0
    assert LedgerEntry.objects.filter(wallet=wallet, kind="DEBIT").count() == 10
    assert services.rewards_audit(store=False).differences == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_credits_with_one_key_write_one_entry(make_member):
    member = make_member()
    results, errors = run_in_parallel(
        20,
        lambda i: (
            services.gems_credit(
                user=member, amount=7, reason=LedgerEntry.Reason.ADJUSTMENT, idempotency_key="same-key"
            ).pk
        ),
    )
    assert errors == [] and len(set(results)) == 1
    assert LedgerEntry.objects.filter(idempotency_key="same-key").count() == 1
    assert Wallet.objects.get(user=member).balance == 107


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_api_requests_with_one_idempotency_key_redeem_once(make_member, product):
    member = make_member()
    services.gems_credit(user=member, amount=1000, reason=LedgerEntry.Reason.ADJUSTMENT, idempotency_key="fund")

    def post(i):
        client = APIClient()
        client.force_authenticate(member)
        response = client.post("/api/v1/redemptions/", {"product": product.pk}, HTTP_IDEMPOTENCY_KEY="redeem-once")
        return response.status_code, response.json()["id"]

    results, errors = run_in_parallel(20, post)
    assert errors == []
    assert {status for status, _ in results} == {201} and len({rid for _, rid in results}) == 1
    assert LedgerEntry.objects.filter(reason="redemption").count() == 1
    assert IdempotencyRecord.objects.filter(user=member, key="redeem-once").count() == 1
    assert Wallet.objects.get(user=member).balance == 1100 - product.redemption_cost


@pytest.mark.django_db(transaction=True)
def test_parallel_daily_claims_award_once(make_member):
    member = make_member()
    results, errors = run_in_parallel(12, lambda i: services.daily_reward_claim(user=member))
    assert errors == []
    assert [created for _, created in results].count(True) == 1
    assert EngagementReward.objects.filter(user=member, reward_type="daily_login").count() == 1
    assert LedgerEntry.objects.filter(reason="daily_login").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_first_wallet_access_gives_one_welcome_credit(make_member):
    member = make_member()
    results, errors = run_in_parallel(10, lambda i: services.member_enrol(user=member).pk)
    assert errors == [] and len(set(results)) == 1
    assert LedgerEntry.objects.filter(reason="welcome").count() == 1
    assert Wallet.objects.get(user=member).balance == 100
