"""The catalogue and its configuration: products, reward items, ranks, achievement
configurations (staff writes, from the console and the API alike), and redemptions.

Each configuration model has ``<name>_create``, ``<name>_update`` and ``<name>_delete``.
They validate once, with :func:`catalogue_validate` (field rules, the model's ``clean()``
with its JSON Schemas, keys unique per brand, check constraints) and answer with field
messages; the database enforces the same rules. A rank or achievement change applies to
new earnings at once; ``manage.py recompute_ranks`` / ``recompute_achievements`` bring
recorded ranks and progress in line.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from accounts.services import hash_token
from engagement import services as engagement_services
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, PermissionDenied
from rewards.models import AchievementConfig, LedgerEntry, Product, Rank, Redemption, RewardItem
from rewards.services.common import Kind, Reason, member_require
from rewards.services.ledger import entry_write, ledger_reverse, wallet_lock

if TYPE_CHECKING:
    from accounts.models import User

M = TypeVar("M", bound=models.Model)

# The fields staff write, per model (everything else is kept by the database).
CATALOGUE_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Product: (
        "brand",
        "sku",
        "name",
        "msrp",
        "points_award",
        "redemption_cost",
        "product_line",
        "product_form",
        "strain_name",
        "strain_type",
        "potency_thc_percent",
        "potency_cbd_percent",
        "dominant_terpene",
        "tags",
        "is_featured",
        "is_new",
        "is_limited",
        "is_active",
    ),
    RewardItem: ("brand", "key", "name", "description", "cost", "is_active"),
    Rank: ("brand", "key", "name", "points_required", "point_multiplier", "benefits", "is_active"),
    AchievementConfig: (
        "brand",
        "name",
        "description",
        "achievement_key",
        "achievement_type",
        "criteria",
        "rewards",
        "visibility",
        "metadata",
        "is_active",
    ),
}

# Why a record cannot be deleted (it is referenced): what to do instead.
_IN_USE = {
    Product: "This product has scans, redemptions or goals: deactivate it instead.",
    RewardItem: "This reward item has redemptions: deactivate it instead.",
    Rank: "Members hold this rank: deactivate it instead (then run manage.py recompute_ranks).",
    AchievementConfig: "Members have progress on this achievement: deactivate it instead.",
}


# ------------------------------------------------------------------------ validation


def _others(instance: models.Model, **lookups: Any) -> bool:
    """Whether another row of the instance's model matches these lookups."""
    rows = type(instance)._default_manager.filter(**lookups)
    if instance.pk is not None:
        rows = rows.exclude(pk=instance.pk)
    return rows.exists()


def _product_rules(product: Product) -> Iterator[tuple[str, str]]:
    if product.msrp is not None and product.msrp < 0:
        yield "msrp", "The MSRP cannot be negative."
    if product.redemption_cost is not None and product.redemption_cost <= 0:
        yield (
            "redemption_cost",
            "A redemption cost is at least 1 gem; leave it empty when the product cannot be redeemed.",
        )
    if product.brand_id and product.sku and _others(product, brand_id=product.brand_id, sku=product.sku):
        yield "sku", "Another product of this brand already has this SKU."


def _reward_item_rules(item: RewardItem) -> Iterator[tuple[str, str]]:
    if item.cost is not None and item.cost <= 0:
        yield "cost", "A reward item costs at least 1 gem."
    if item.brand_id and item.key and _others(item, brand_id=item.brand_id, key=item.key):
        yield "key", "Another reward item of this brand already has this key."


def _rank_rules(rank: Rank) -> Iterator[tuple[str, str]]:
    if rank.point_multiplier is not None and not Decimal(1) <= rank.point_multiplier <= Decimal(5):
        yield "point_multiplier", "The multiplier is between 1.00 and 5.00."
    if rank.brand_id and rank.key and _others(rank, brand_id=rank.brand_id, key=rank.key):
        yield "key", "Another rank of this brand already has this key."
    if (
        rank.brand_id
        and rank.is_active
        and rank.points_required is not None
        and _others(rank, brand_id=rank.brand_id, is_active=True, points_required=rank.points_required)
    ):
        yield "points_required", f"Another active rank of this brand already starts at {rank.points_required} gems."


def _achievement_config_rules(config: AchievementConfig) -> Iterator[tuple[str, str]]:
    if config.achievement_key and _others(config, brand_id=config.brand_id, achievement_key=config.achievement_key):
        where = "this brand" if config.brand_id else "the global achievements"
        yield "achievement_key", f"An achievement with this key already exists for {where}."


_RULES: dict[type[models.Model], Callable[[Any], Iterator[tuple[str, str]]]] = {
    Product: _product_rules,
    RewardItem: _reward_item_rules,
    Rank: _rank_rules,
    AchievementConfig: _achievement_config_rules,
}


def _merge(errors: dict[str, list[str]], exc: ValidationError) -> None:
    for field, messages in exc.message_dict.items():
        key = "non_field_errors" if field == NON_FIELD_ERRORS else field
        bucket = errors.setdefault(key, [])
        bucket.extend(m for m in messages if m not in bucket)


def catalogue_validate(*, instance: models.Model, exclude: Iterable[str] = ()) -> None:
    """Every rule of a product, reward item, rank or achievement configuration about to be saved.

    Raises one ``ValidationError`` with field messages (``non_field_errors`` for the rest).
    ``exclude``: fields already refused by a form, not to be reported twice.
    """
    exclude = set(exclude)
    errors: dict[str, list[str]] = {}
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        _merge(errors, exc)
    for field, message in _RULES[type(instance)](instance):
        if field not in errors and field not in exclude:
            errors.setdefault(field, []).append(message)
    try:
        instance.full_clean(exclude=exclude | set(errors))
    except ValidationError as exc:
        _merge(errors, exc)
    errors = {field: messages for field, messages in errors.items() if field not in exclude}
    if errors:
        raise ValidationError(errors)


# --------------------------------------------------------------------- create/update


def _apply(instance: M, data: dict[str, Any]) -> M:
    allowed = CATALOGUE_FIELDS[type(instance)]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError({field: ["Unknown field."] for field in unknown})
    for field, value in data.items():
        setattr(instance, field, value)
    return instance


def _save(instance: M) -> M:
    catalogue_validate(instance=instance)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:  # a concurrent write took the key meanwhile
        raise Conflict(f"This {instance._meta.verbose_name} clashes with one saved meanwhile; try again.") from exc
    return instance


@transaction.atomic
def _create(model: type[M], data: dict[str, Any]) -> M:
    return _save(_apply(model(), data))


@transaction.atomic
def _update(instance: M, data: dict[str, Any]) -> M:
    current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    return _save(_apply(current, data))


@transaction.atomic
def _delete(instance: models.Model) -> None:
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        raise Conflict(_IN_USE[type(instance)]) from exc


def product_create(*, data: dict[str, Any], context: RequestContext | None = None) -> Product:
    """A product members can scan, wish for and (with a redemption cost) redeem."""
    return _create(Product, data)


def product_update(*, product: Product, data: dict[str, Any], context: RequestContext | None = None) -> Product:
    return _update(product, data)


def product_delete(*, product: Product, context: RequestContext | None = None) -> None:
    """Delete a product nobody scanned, redeemed or saves for (wishlists lose it)."""
    _delete(product)


def reward_item_create(*, data: dict[str, Any], context: RequestContext | None = None) -> RewardItem:
    return _create(RewardItem, data)


def reward_item_update(
    *, reward_item: RewardItem, data: dict[str, Any], context: RequestContext | None = None
) -> RewardItem:
    return _update(reward_item, data)


def reward_item_delete(*, reward_item: RewardItem, context: RequestContext | None = None) -> None:
    _delete(reward_item)


def rank_create(*, data: dict[str, Any], context: RequestContext | None = None) -> Rank:
    """A rank applies to scans at once; ``manage.py recompute_ranks`` re-ranks members."""
    return _create(Rank, data)


def rank_update(*, rank: Rank, data: dict[str, Any], context: RequestContext | None = None) -> Rank:
    return _update(rank, data)


def rank_delete(*, rank: Rank, context: RequestContext | None = None) -> None:
    _delete(rank)


def achievement_config_create(*, data: dict[str, Any], context: RequestContext | None = None) -> AchievementConfig:
    """An achievement is evaluated on the next events; ``recompute_achievements`` rebuilds progress."""
    return _create(AchievementConfig, data)


def achievement_config_update(
    *, config: AchievementConfig, data: dict[str, Any], context: RequestContext | None = None
) -> AchievementConfig:
    return _update(config, data)


def achievement_config_delete(*, config: AchievementConfig, context: RequestContext | None = None) -> None:
    _delete(config)


# ----------------------------------------------------------------------- redemptions


@transaction.atomic
def redemption_create(
    *,
    user: User,
    product: Product | None = None,
    reward_item: RewardItem | None = None,
    idempotency_key: str = "",
    context: RequestContext | None = None,
) -> tuple[Redemption, bool]:
    """Spend gems on a product or a reward item (a DEBIT); refused when the balance is short."""
    member_require(user)
    if (product is None) == (reward_item is None):
        raise ValidationError({"non_field_errors": ["Choose either a product or a reward item."]})
    if product is not None:
        if not product.is_active or product.redemption_cost is None:
            raise ValidationError({"product": ["This product cannot be redeemed."]})
        cost, brand, name = product.redemption_cost, product.brand, product.name
    else:
        if not reward_item.is_active:
            raise ValidationError({"reward_item": ["This reward is no longer available."]})
        cost, brand, name = reward_item.cost, reward_item.brand, reward_item.name
    key = f"redemption:{user.pk}:{hash_token(idempotency_key) if idempotency_key else uuid.uuid4().hex}"
    wallet = wallet_lock(user=user, context=context)
    entry, created = entry_write(
        wallet=wallet,
        user=user,
        kind=Kind.DEBIT,
        amount=cost,
        reason=Reason.REDEMPTION,
        brand=brand,
        idempotency_key=key,
        source=f"product:{product.pk}" if product else f"reward_item:{reward_item.pk}",
        description=f"Redeemed {name}",
        actor=user,
        context=context,
    )
    if not created:
        return Redemption.objects.get(entry=entry), False
    redemption = Redemption.objects.create(user=user, product=product, reward_item=reward_item, cost=cost, entry=entry)
    engagement_services.event_record(
        event_type="reward_redeemed",
        user=user,
        brand=brand,
        product_id=product.pk if product else None,
        points_awarded=-cost,
        metadata={"redemption_id": redemption.pk, "reward_item": reward_item.key if reward_item else None},
        context=context,
    )
    return redemption, True


@transaction.atomic
def redemption_reverse(
    *, redemption: Redemption, actor: User, reason: str, context: RequestContext | None = None
) -> Redemption:
    """Staff refund a redemption: a CREDIT that references the DEBIT. Asking twice is harmless."""
    if not actor.has_perm("rewards.reverse_redemption"):
        raise PermissionDenied("You do not have permission to reverse redemptions.")
    redemption = Redemption.objects.select_for_update().select_related("entry").get(pk=redemption.pk)
    if redemption.status == Redemption.Status.REVERSED:
        return redemption
    reversal, _ = ledger_reverse(entry=redemption.entry, actor=actor, reason=reason, context=context)
    redemption.status = Redemption.Status.REVERSED
    redemption.reversal_entry = reversal
    redemption.reversed_by = actor
    redemption.reversal_reason = reason.strip()[:500]
    redemption.reversed_at = timezone.now()
    redemption.save(update_fields=["status", "reversal_entry", "reversed_by", "reversal_reason", "reversed_at"])
    return redemption


@transaction.atomic
def entry_reverse_by_staff(
    *, entry: LedgerEntry, actor: User, reason: str, context: RequestContext | None = None
) -> tuple[LedgerEntry, bool]:
    """Staff reverse any entry (a redemption's entry goes through ``redemption_reverse``)."""
    if not actor.has_perm("rewards.reverse_ledgerentry"):
        raise PermissionDenied("You do not have permission to reverse ledger entries.")
    redemption = Redemption.objects.filter(entry=entry).first()
    if redemption is not None:
        if not actor.has_perm("rewards.reverse_redemption"):
            raise PermissionDenied("You do not have permission to reverse redemptions.")
        redemption = redemption_reverse(redemption=redemption, actor=actor, reason=reason, context=context)
        return redemption.reversal_entry, True
    return ledger_reverse(entry=entry, actor=actor, reason=reason, context=context)
