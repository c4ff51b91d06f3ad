"""Wishlists and savings goals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from engagement import services as engagement_services
from focusedroom.context import RequestContext
from focusedroom.errors import NotFound
from rewards.models import AchievementConfig, Goal, Product, Wallet, WishlistItem
from rewards.services.achievements import achievements_evaluate
from rewards.services.common import member_require
from rewards.services.ledger import wallet_lock

if TYPE_CHECKING:
    from accounts.models import User


@transaction.atomic
def wishlist_add(*, user: User, product: Product, context: RequestContext | None = None) -> tuple[WishlistItem, bool]:
    """Add a product to the member's wishlist (adding it twice returns the first item)."""
    member_require(user)
    if not product.is_active:
        raise ValidationError({"product": ["This product is not available."]})
    try:
        with transaction.atomic():
            item = WishlistItem.objects.create(user=user, product=product)
    except IntegrityError:
        return WishlistItem.objects.get(user=user, product=product), False
    engagement_services.event_record(
        event_type="wishlist_added", user=user, brand=product.brand, product_id=product.pk, context=context
    )
    achievements_evaluate(user=user, types=[AchievementConfig.Type.WISHLIST_ITEMS], context=context)
    return item, True


@transaction.atomic
def wishlist_remove(*, user: User, item: WishlistItem, context: RequestContext | None = None) -> None:
    member_require(user)
    if item.user_id != user.pk:
        raise NotFound("Not found.")
    item.delete()
    achievements_evaluate(user=user, types=[AchievementConfig.Type.WISHLIST_ITEMS], context=context)


def _goal_fields(
    *, goal_type: str, goal_name: str, target_points: int | None, product: Product | None
) -> tuple[str, int, Product | None]:
    errors: dict[str, list[str]] = {}
    if goal_type not in Goal.Type.values:
        errors["goal_type"] = [f"Choose one of {', '.join(Goal.Type.values)}."]
    if goal_type == Goal.Type.WISHLIST_ITEM:
        if product is None:
            errors["product"] = ["Choose the product this goal saves for."]
        elif target_points is None:
            target_points = product.redemption_cost
    if target_points is None or isinstance(target_points, bool) or not isinstance(target_points, int):
        errors.setdefault("target_points", ["Enter the number of gems to reach."])
    elif target_points <= 0:
        errors["target_points"] = ["The target is at least 1 gem."]
    goal_name = (goal_name or "").strip() or (product.name if product else "")
    if not goal_name:
        errors["goal_name"] = ["Give the goal a name."]
    if errors:
        raise ValidationError(errors)
    return goal_name[:255], target_points, product


@transaction.atomic
def goal_create(
    *,
    user: User,
    goal_name: str = "",
    target_points: int | None = None,
    goal_type: str = Goal.Type.CUSTOM,
    product: Product | None = None,
    context: RequestContext | None = None,
) -> Goal:
    """A savings goal; it is completed (once) as soon as the balance reaches the target."""
    member_require(user)
    goal_name, target_points, product = _goal_fields(
        goal_type=goal_type, goal_name=goal_name, target_points=target_points, product=product
    )
    wallet = wallet_lock(user=user, context=context)
    return Goal.objects.create(
        user=user,
        goal_type=goal_type,
        goal_name=goal_name,
        target_points=target_points,
        product=product,
        completed_at=timezone.now() if wallet.balance >= target_points else None,
    )


@transaction.atomic
def goal_update(*, goal: Goal, data: dict[str, Any], context: RequestContext | None = None) -> Goal:
    """Rename, pause/resume or retarget a goal; a completed goal keeps its completion date."""
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if "target_points" in data and goal.completed_at is not None and data["target_points"] != goal.target_points:
        raise ValidationError({"target_points": ["This goal is already reached; create a new goal instead."]})
    name, target, _ = _goal_fields(
        goal_type=goal.goal_type,
        goal_name=data.get("goal_name", goal.goal_name),
        target_points=data.get("target_points", goal.target_points),
        product=goal.product,
    )
    goal.goal_name, goal.target_points = name, target
    if "is_active" in data:
        goal.is_active = bool(data["is_active"])
    if goal.completed_at is None and goal.is_active:
        balance = Wallet.objects.filter(user_id=goal.user_id).values_list("balance", flat=True).first() or 0
        if balance >= goal.target_points:
            goal.completed_at = timezone.now()
    goal.save()
    return goal


@transaction.atomic
def goal_delete(*, goal: Goal, context: RequestContext | None = None) -> None:
    goal.delete()


@transaction.atomic
def wishlist_goals_erase(*, user: User) -> None:
    """GDPR erasure: the wishlist and the goals go."""
    WishlistItem.objects.filter(user=user).delete()
    Goal.objects.filter(user=user).delete()
