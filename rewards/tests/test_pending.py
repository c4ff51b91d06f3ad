"""Pending gems: held credits, pending and available apart, release (once), cancellation by staff."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from focusedroom.errors import Conflict, PermissionDenied
from focusedroom.testing import run_in_parallel
from rewards import selectors, services
from rewards.models import LedgerEntry, PendingCredit, Wallet


@contextmanager
def later(days: float):
    moment = timezone.now() + timedelta(days=days)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def holding_brand(default_brand):
    default_brand.settings = {"rewards": {"pending_days": {"product_scan": 14, "referral_referrer": 30}}}
    default_brand.save()
    return default_brand


@pytest.mark.django_db
def test_a_held_scan_is_pending_not_spendable_and_shown_apart(holding_brand, product, member_client, member):
    scan, created = services.product_scan(user=member, sku=product.sku)
    assert created and scan.points_awarded == 40 and scan.entry is None
    pending = PendingCredit.objects.get(user=member)
    assert (pending.status, pending.amount, pending.reason) == ("pending", 40, "product_scan")
    assert pending.release_at > timezone.now() + timedelta(days=13)
    wallet = Wallet.objects.get(user=member)
    assert wallet.balance == 100 and not LedgerEntry.objects.filter(reason="product_scan").exists()
    body = member_client.get("/api/v1/me/wallet/").json()
    assert (body["available"], body["pending"], body["balance"]) == (100, 40, 100)
    mine = member_client.get("/api/v1/me/pending-gems/").json()["results"]
    assert [(p["amount"], p["reason"]) for p in mine] == [(40, "product_scan")]
    with pytest.raises(services.InsufficientGems):
        services.gems_debit(user=member, amount=120, reason="redemption", idempotency_key="too-much")


@pytest.mark.django_db
def test_the_history_page_and_the_panel_show_pending_and_available_apart(client, member, holding_brand, product):
    services.product_scan(user=member, sku=product.sku)
    client.force_login(member)
    page = client.get(reverse("rewards-history")).content.decode()
    assert "Pending gems" in page and "+40" in page and "40 pending" in page
    account = client.get("/account/").content.decode()
    assert "data-pending-gems" in account and "<strong>40</strong>" in account


@pytest.mark.django_db
def test_release_writes_a_normal_credit_once_when_due(member, holding_brand, product):
    services.product_scan(user=member, sku=product.sku)
    pending = PendingCredit.objects.get(user=member)
    assert services.pending_credits_release() == 0  # not due yet
    with later(15):
        assert services.pending_credits_release() == 1
        assert services.pending_credits_release() == 0
        call_command("release_pending_gems")
    pending.refresh_from_db()
    assert pending.status == "released" and pending.entry.idempotency_key == pending.idempotency_key
    assert LedgerEntry.objects.filter(reason="product_scan").count() == 1
    wallet = Wallet.objects.get(user=member)
    assert wallet.balance == 140 and wallet.lifetime_earned == 140
    assert selectors.pending_total(user=member) == 0
    assert services.rewards_audit(store=False).is_clean


@pytest.mark.django_db
def test_staff_cancel_in_the_window_with_a_reason_and_the_gems_never_arrive(
    member, holding_brand, product, staff_with_perms
):
    services.product_scan(user=member, sku=product.sku)
    pending = PendingCredit.objects.get(user=member)
    staff = staff_with_perms("rewards.cancel_pendingcredit")
    with pytest.raises(PermissionDenied):
        services.pending_credit_cancel(pending=pending, actor=StaffFactory(), reason="fraud")
    with pytest.raises(Exception, match="reason|why"):
        services.pending_credit_cancel(pending=pending, actor=staff, reason="  ")
    cancelled = services.pending_credit_cancel(pending=pending, actor=staff, reason="Receipt was fake")
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason) == (
        "cancelled",
        staff,
        "Receipt was fake",
    )
    assert (
        services.pending_credit_cancel(pending=pending, actor=staff, reason="again").cancel_reason == "Receipt was fake"
    )
    with later(20):
        assert services.pending_credits_release() == 0
    assert Wallet.objects.get(user=member).balance == 100


@pytest.mark.django_db
def test_a_released_credit_cannot_be_cancelled_and_final_states_are_final_in_the_database(
    member, holding_brand, product, staff_with_perms
):
    services.product_scan(user=member, sku=product.sku)
    pending = PendingCredit.objects.get(user=member)
    with later(15):
        services.pending_credits_release()
    with pytest.raises(Conflict):
        services.pending_credit_cancel(
            pending=pending, actor=staff_with_perms("rewards.cancel_pendingcredit"), reason="late"
        )
    with pytest.raises(DatabaseError), transaction.atomic():  # released is final (a trigger)
        PendingCredit.objects.filter(pk=pending.pk).update(status="pending", entry=None, released_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        PendingCredit.objects.create(
            user=member,
            brand=holding_brand,
            amount=5,
            reason="product_scan",
            idempotency_key="k",
            status="cancelled",
            release_at=timezone.now(),
            cancelled_at=timezone.now(),
        )  # cancelled without who and why


@pytest.mark.django_db
def test_referral_bonuses_are_held_when_the_brand_says_so(make_member, holding_brand):
    referrer, referee = make_member(), make_member(is_email_verified=False)
    code = services.referral_code_ensure(user=referrer)[0].code
    services.referral_create_pending(referee=referee, code=code)
    referee.is_email_verified = True
    referee.save()
    referral = services.referral_convert(referee=referee)
    assert referral.status == "converted" and referral.points_awarded_to_referrer == 200
    held = PendingCredit.objects.get(user=referrer)
    assert (held.reason, held.amount) == ("referral_referrer", 200)
    assert LedgerEntry.objects.filter(reason="referral_referee", wallet__user=referee).exists()  # not held
    assert Wallet.objects.get(user=referrer).balance == 100


@pytest.mark.django_db
def test_console_cancels_through_the_service_and_the_changelist_has_a_query_budget(
    client, holding_brand, product, make_member, django_assert_max_num_queries
):
    staff = StaffFactory(is_superuser=True)
    members = [make_member() for _ in range(3)]
    for m in members:
        services.product_scan(user=m, sku=product.sku)
    client.force_login(staff)
    url = reverse("admin:rewards_pendingcredit_changelist")
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        assert client.get(url, {"status": "pending"}).status_code == 200
    budget = len(small.captured_queries)
    ids = list(PendingCredit.objects.values_list("pk", flat=True))
    form = client.post(url, {"action": "cancel_pending", "_selected_action": ids[:2]})
    assert form.status_code == 200 and b"Cancel pending gems" in form.content
    client.post(url, {"action": "cancel_pending", "_selected_action": ids[:2], "apply": "1", "reason": "Duplicate"})
    assert PendingCredit.objects.filter(status="cancelled", cancel_reason="Duplicate", cancelled_by=staff).count() == 2
    for _ in range(6):
        services.product_scan(user=make_member(), sku=product.sku)
    with django_assert_max_num_queries(budget):
        assert client.get(url, {"status": "pending"}).status_code == 200


@pytest.mark.django_db
def test_staff_api_lists_and_cancels_pending_credits(staff_client, holding_brand, product, make_member, member_client):
    for _ in range(3):
        services.product_scan(user=make_member(), sku=product.sku)
    pending = PendingCredit.objects.first()
    assert member_client.get("/api/v1/pending-credits/").status_code == 403
    viewer = staff_client("rewards.view_pendingcredit")
    assert len(viewer.get("/api/v1/pending-credits/?status=pending").json()["results"]) == 3
    assert viewer.post(f"/api/v1/pending-credits/{pending.pk}/cancel/", {"reason": "x"}).status_code == 403
    canceller = staff_client("rewards.view_pendingcredit", "rewards.cancel_pendingcredit")
    bad = canceller.post(f"/api/v1/pending-credits/{pending.pk}/cancel/", {"reason": ""}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["error"]["fields"]
    unknown = canceller.post(f"/api/v1/pending-credits/{pending.pk}/cancel/", {"why": "x"}, format="json")
    assert unknown.status_code == 400
    ok = canceller.post(f"/api/v1/pending-credits/{pending.pk}/cancel/", {"reason": "Fake scan"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "cancelled" and ok.json()["cancel_reason"] == "Fake scan"


@pytest.mark.django_db(transaction=True)
def test_parallel_releases_and_a_cancel_leave_exactly_one_outcome(member, holding_brand, product, staff_with_perms):
    services.product_scan(user=member, sku=product.sku)
    pending = PendingCredit.objects.get(user=member)
    staff = staff_with_perms("rewards.cancel_pendingcredit")

    def work(i):
        if i == 0:
            return services.pending_credit_cancel(pending=pending, actor=staff, reason="check")
        return services.pending_credits_release()

    with later(15):
        results, errors = run_in_parallel(8, work)
    assert all(isinstance(e, Conflict) for e in errors)
    pending.refresh_from_db()
    credits = LedgerEntry.objects.filter(reason="product_scan").count()
    if pending.status == "released":
        assert credits == 1 and Wallet.objects.get(user=member).balance == 140
    else:
        assert pending.status == "cancelled" and credits == 0 and Wallet.objects.get(user=member).balance == 100


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/pending-credits/", "/api/v1/referrals/", "/api/v1/me/pending-gems/"])
def test_review_lists_have_a_query_budget_independent_of_rows(
    url, staff_client, member, member_client, holding_brand, product, make_member, django_assert_max_num_queries
):
    api = member_client if "/me/" in url else staff_client("rewards.view_pendingcredit", "rewards.view_referral")
    code = services.referral_code_ensure(user=member)[0].code

    def grow(n):
        for _ in range(n):
            other = make_member()
            services.product_scan(user=other, sku=product.sku)
            services.referral_create_pending(referee=other, code=code)
            services.credit_or_hold(
                wallet=services.member_enrol(user=member),
                user=member,
                amount=5,
                reason="product_scan",
                brand=holding_brand,
                idempotency_key=f"extra-{other.pk}",
            )

    grow(2)
    api.get(url)
    with django_assert_max_num_queries(12) as small:
        assert api.get(url).status_code == 200
    budget = len(small.captured_queries)
    grow(8)
    with django_assert_max_num_queries(budget):
        assert api.get(url).status_code == 200
