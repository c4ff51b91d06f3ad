"""Wishlists (one per person and product) and goals (progress from the balance, completed once)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from rewards import services
from rewards.models import Goal, WishlistItem


@pytest.mark.django_db
def test_wishlist_add_list_remove_via_api(member_client, member, product):
    first = member_client.post("/api/v1/me/wishlist/", {"product": product.pk})
    again = member_client.post("/api/v1/me/wishlist/", {"product": product.pk})
    assert first.status_code == 201 and again.status_code == 200 and first.json()["id"] == again.json()["id"]
    listing = member_client.get("/api/v1/me/wishlist/").json()
    assert listing["count"] == 1 and listing["results"][0]["product"]["sku"] == product.sku
    assert member_client.post("/api/v1/me/wishlist/", {"product": 999999}).status_code == 400
    assert member_client.delete(f"/api/v1/me/wishlist/{first.json()['id']}/").status_code == 204
    assert not WishlistItem.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_database_refuses_a_duplicate_wishlist_item(make_member, product):
    member = make_member()
    services.wishlist_add(user=member, product=product)
    with pytest.raises(IntegrityError), transaction.atomic():
        WishlistItem.objects.create(user=member, product=product)


@pytest.mark.django_db
def test_goal_progress_comes_from_the_balance_and_completion_is_set_once(member_client, member, product):
    response = member_client.post("/api/v1/me/goals/", {"goal_name": "Big one", "target_points": 300})
    assert response.status_code == 201
    body = response.json()
    assert (body["current_points"], body["percent"], body["completed_at"]) == (100, 33, None)
    services.gems_credit(user=member, amount=250, reason="adjustment", idempotency_key="g")
    goal = Goal.objects.get(pk=body["id"])
    assert goal.completed_at is not None
    reached = goal.completed_at
    services.gems_debit(user=member, amount=300, reason="redemption", idempotency_key="spend")
    services.gems_credit(user=member, amount=400, reason="adjustment", idempotency_key="g2")
    goal.refresh_from_db()
    assert goal.completed_at == reached
    data = member_client.get(f"/api/v1/me/goals/{goal.pk}/").json()
    assert data["current_points"] == 300 and data["percent"] == 100
    # The database keeps the first completion date.
    with pytest.raises(Exception, match="completed_at_set_once|Cannot"), transaction.atomic():
        Goal.objects.filter(pk=goal.pk).update(completed_at=None)
    changed = member_client.patch(f"/api/v1/me/goals/{goal.pk}/", {"target_points": 999})
    assert changed.status_code == 400 and "target_points" in changed.json()["error"]["fields"]
    renamed = member_client.patch(f"/api/v1/me/goals/{goal.pk}/", {"goal_name": "Done!", "is_active": False})
    assert renamed.status_code == 200 and renamed.json()["goal_name"] == "Done!"


@pytest.mark.django_db
def test_product_goal_targets_the_products_cost_and_validates(member_client, product):
    ok = member_client.post("/api/v1/me/goals/", {"goal_type": "wishlist_item", "product": product.pk})
    assert ok.status_code == 201 and ok.json()["target_points"] == 80 and ok.json()["goal_name"] == product.name
    assert ok.json()["completed_at"] is not None  # 100 gems already
    missing = member_client.post("/api/v1/me/goals/", {"goal_type": "wishlist_item"})
    assert missing.status_code == 400 and "product" in missing.json()["error"]["fields"]
    no_target = member_client.post("/api/v1/me/goals/", {"goal_name": "x"})
    assert no_target.status_code == 400 and "target_points" in no_target.json()["error"]["fields"]
    negative = member_client.post("/api/v1/me/goals/", {"goal_name": "x", "target_points": -3})
    assert negative.status_code == 400
