"""Product scans (rank multiplier, once per product and day) and redemptions with staff reversal."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from engagement.models import Event
from rewards import services
from rewards.models import LedgerEntry, ProductScan, Redemption, RewardItem, Wallet


@pytest.mark.django_db
def test_scan_awards_points_times_rank_multiplier_once_per_day_and_logs_events(member_client, member, product, ranks):
    services.gems_credit(user=member, amount=500, reason="adjustment", idempotency_key="to-silver")  # lifetime 600
    response = member_client.post(
        "/api/v1/scans/", {"sku": product.sku, "brand": "focusedroom"}, HTTP_USER_AGENT="Mozilla/5.0 (iPhone)"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["points_awarded"] == 60  # 40 × 1.50 (Silver)
    again = member_client.post("/api/v1/scans/", {"qr": f"focusedroom:{product.sku}"})
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]
    assert "once per product" in again.json()["detail"]
    assert ProductScan.objects.filter(user=member).count() == 1
    assert Wallet.objects.get(user=member).balance == 660
    events = list(Event.objects.filter(user=member, event_type="product_scanned").order_by("id"))
    assert [(e.product_id, e.points_awarded) for e in events] == [(product.pk, 60), (product.pk, 0)]
    assert events[0].user_agent.startswith("Mozilla") and events[0].ip_address == "127.0.0.1"


@pytest.mark.django_db
def test_unknown_sku_answers_404_with_a_clear_message(member_client, product):
    response = member_client.post("/api/v1/scans/", {"sku": "NOPE", "brand": "focusedroom"})
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "We do not know the product code 'NOPE'" in message and "focusedroom" not in message
    bad = member_client.post("/api/v1/scans/", {"qr": "not-a-code"})
    assert bad.status_code == 400 and "qr" in bad.json()["error"]["fields"]
    empty = member_client.post("/api/v1/scans/", {})
    assert empty.status_code == 400 and "sku" in empty.json()["error"]["fields"]


@pytest.mark.django_db
def test_database_refuses_a_second_scan_the_same_day(make_member, product):
    member = make_member()
    scan, _ = services.product_scan(user=member, sku=product.sku)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductScan.objects.create(user=member, product=product, day=scan.day)


@pytest.mark.django_db
def test_redemption_spends_gems_and_is_refused_when_short(member_client, member, product, default_brand):
    item = RewardItem.objects.create(brand=default_brand, key="coaching", name="Coaching call", cost=500)
    ok = member_client.post("/api/v1/redemptions/", {"product": product.pk})
    assert ok.status_code == 201 and ok.json()["cost"] == 80
    short = member_client.post("/api/v1/redemptions/", {"reward_item": item.pk})
    assert short.status_code == 409 and short.json()["error"]["code"] == "insufficient_gems"
    assert "the balance is 20" in short.json()["error"]["message"]
    both = member_client.post("/api/v1/redemptions/", {"product": product.pk, "reward_item": item.pk})
    assert both.status_code == 400
    product.redemption_cost = None
    product.save()
    not_redeemable = member_client.post("/api/v1/redemptions/", {"product": product.pk})
    assert not_redeemable.status_code == 400 and "product" in not_redeemable.json()["error"]["fields"]
    assert Redemption.objects.filter(user=member).count() == 1


@pytest.mark.django_db
def test_idempotency_key_header_replays_the_first_response(member_client, member, product):
    services.gems_credit(user=member, amount=500, reason="adjustment", idempotency_key="fund")
    first = member_client.post("/api/v1/redemptions/", {"product": product.pk}, HTTP_IDEMPOTENCY_KEY="abc")
    second = member_client.post("/api/v1/redemptions/", {"product": product.pk}, HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["Idempotent-Replayed"] == "true"
    assert Redemption.objects.filter(user=member).count() == 1
    other = member_client.post("/api/v1/redemptions/", {"product": 999999}, HTTP_IDEMPOTENCY_KEY="abc")
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    too_long = member_client.post("/api/v1/redemptions/", {"product": product.pk}, HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert too_long.status_code == 400


@pytest.mark.django_db
def test_staff_reverse_a_redemption_with_a_reason(member_client, member, product, staff_client):
    redemption_id = member_client.post("/api/v1/redemptions/", {"product": product.pk}).json()["id"]
    denied = member_client.post(f"/api/v1/redemptions/{redemption_id}/reverse/", {"reason": "mine"})
    assert denied.status_code == 403
    staff = staff_client("rewards.reverse_redemption")
    missing_reason = staff.post(f"/api/v1/redemptions/{redemption_id}/reverse/", {})
    assert missing_reason.status_code == 400
    response = staff.post(f"/api/v1/redemptions/{redemption_id}/reverse/", {"reason": "Out of stock"})
    assert response.status_code == 200 and response.json()["status"] == "reversed"
    again = staff.post(f"/api/v1/redemptions/{redemption_id}/reverse/", {"reason": "Again"})
    assert again.status_code == 200
    redemption = Redemption.objects.get(pk=redemption_id)
    reversal = redemption.reversal_entry
    assert reversal.kind == "CREDIT" and reversal.reverses_id == redemption.entry_id
    assert reversal.description == "Out of stock"
    assert LedgerEntry.objects.filter(reason="reversal").count() == 1
    wallet = Wallet.objects.get(user=member)
    assert (wallet.balance, wallet.lifetime_earned) == (100, 100)
    assert staff.post("/api/v1/redemptions/999999/reverse/", {"reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_scanning_finds_the_sku_in_any_letter_case(member_client, member, product):
    response = member_client.post("/api/v1/scans/", {"sku": product.sku.lower(), "brand": "focusedroom"})
    assert response.status_code == 201
    assert ProductScan.objects.get(user=member).product == product
