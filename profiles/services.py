"""Writes of campaign profiles: create, update, soft delete, restore, revert, spend, usage.

Every function is keyword-only and owns its transaction. The services are the one place
where input is validated (the API's serializers and the console's forms only shape it):
bad input raises ``ValidationError`` with field messages, keyed by the model's field
names; state conflicts raise ``Conflict`` (409) — a stale version carries
``current_version``. The database enforces the same rules (see ``profiles.models``);
services check first so people get a clear message.

``actor`` is the person doing it (request user, console user or a command's
``--actor``); it lands in ``created_by``/``updated_by`` and in the version history.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from focusedroom.errors import Conflict, NotFound, PermissionDenied
from profiles import signals
from profiles.models import (
    TRAITS,
    BrandGuidelines,
    Budget,
    BudgetAlertFiring,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
    VersionedRecord,
)
from profiles.schemas import validate_document
from profiles.selectors import account_profile_status

if TYPE_CHECKING:
    from accounts.models import User

R = TypeVar("R", bound=VersionedRecord)

JSON_FIELDS = ("demographics", "behavior", "persona", "high_level_guidelines", "full_style_guide", "alerts", "metadata")
REFERENCE_FIELDS = {
    "customer_profile": TargetCustomerProfile,
    "brand_guidelines": BrandGuidelines,
    "budget": Budget,
}
# Who may still use a record: (model, field, "in use" filter). The same rule as the
# ``refuse_soft_delete`` triggers declared on the models, checked first for a clear message.
USERS_OF: dict[type, list[tuple[type, str, dict]]] = {
    TargetCustomerProfile: [
        (ProfileContainer, "customer_profile", {"deleted_at__isnull": True}),
        (CampaignProfileUsage, "customer_profile", {"is_active": True}),
    ],
    BrandGuidelines: [
        (ProfileContainer, "brand_guidelines", {"deleted_at__isnull": True}),
        (CampaignProfileUsage, "brand_guidelines", {"is_active": True}),
    ],
    Budget: [
        (ProfileContainer, "budget", {"deleted_at__isnull": True}),
        (CampaignProfileUsage, "budget", {"is_active": True}),
    ],
    ProfileContainer: [(CampaignProfileUsage, "container", {"is_active": True})],
}
MAX_ACCOUNT_ID = 255
USAGE_RELATED = ("container", "customer_profile", "brand_guidelines", "budget")
# Sizes the columns do not bound by themselves.
TEXT_LIMITS = {"description": 10_000}
LIST_LIMITS = {"interests": 200, "brand_values": 200, "campaign_ids": 200}


# --------------------------------------------------------------------------- helpers


def clean_account_id(account_id: Any) -> str:
    value = str(account_id or "").strip()
    if not value:
        raise ValidationError({"account_id": ["An account id is required."]})
    if len(value) > MAX_ACCOUNT_ID or "/" in value:
        raise ValidationError({"account_id": [f"An account id has at most {MAX_ACCOUNT_ID} characters and no '/'."]})
    return value


def parse_version(value: Any, *, field: str = "version") -> int:
    """A version number from a body field or an ``If-Match`` header (``"3"``, ``W/"3"``, ``3``)."""
    text = str(value).strip()
    text = text.removeprefix("W/").strip('"')
    try:
        number = int(text)
    except (TypeError, ValueError):
        raise ValidationError({field: ["A version is a whole number, e.g. 3."]}) from None
    if number < 1:
        raise ValidationError({field: ["Versions start at 1."]})
    return number


def _check_version(current_version: int, expected_version: int | None, *, required: bool = True) -> None:
    if expected_version is None:
        if required:
            raise ValidationError(
                {"version": ["Send the version your change is based on (the 'version' field or an If-Match header)."]}
            )
        return
    if expected_version != current_version:
        raise Conflict(
            f"Someone else changed this record meanwhile: it is at version {current_version}, your change is based "
            f"on version {expected_version}. Reload it and apply your change again.",
            extra={"current_version": current_version},
        )


def record_check_version(*, record: VersionedRecord, expected_version: int | None) -> None:
    """Refuse a change based on another version than the current one, before the change is made.

    For forms that show the refusal next to the user's input; the update itself checks
    again with the row locked.
    """
    current = type(record).all_objects.filter(pk=record.pk).values_list("version", flat=True).first()
    if current is None:
        raise NotFound(f"This {type(record)._meta.verbose_name} no longer exists.")
    _check_version(current, expected_version)


_CONSTRAINT_MESSAGES = {
    "_in_use": "This record is still used by a live container or an active campaign usage.",
    "_same_account": "A referenced record belongs to another account.",
    "_live_references": "A referenced record is deleted.",
    "_one_default_per_account": "Another record is already the default for this account.",
    "_one_active": "This campaign already has an active usage.",
    "_version_increments_by_1": "The record was changed concurrently. Reload it and try again.",
}


def _integrity_conflict(exc: IntegrityError) -> Conflict:
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or ""
    for suffix, message in _CONSTRAINT_MESSAGES.items():
        if constraint.endswith(suffix):
            return Conflict(message, extra={"constraint": constraint})
    return Conflict("The change conflicts with the current data.", extra={"constraint": constraint})


def _lock_default_slot(model: type[VersionedRecord], account_id: str) -> None:
    """Serialise "who is the default" changes of one account (transaction-scoped lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{model._meta.db_table}:default:{account_id}"])


def _release_default(model: type[VersionedRecord], *, account_id: str, keep_pk, actor: User | None) -> None:
    """Un-default the account's current default (a new version of it), under the slot lock."""
    others = model.objects.select_for_update().filter(account_id=account_id, is_default=True).exclude(pk=keep_pk)
    for other in others.order_by("pk"):
        other.is_default = False
        other.updated_by = actor
        other.version += 1
        other.save(update_fields=["is_default", "updated_by", "version", "updated_at"])


def validate_record(*, record: VersionedRecord) -> None:
    """Every rule of a record about to be saved: its account, field types, lengths and choices,
    JSON Schemas, cross-field rules and references. Raises ``ValidationError`` keyed by field."""
    errors: dict[str, list[str]] = {}
    try:
        clean_account_id(record.account_id)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        record.full_clean(
            exclude=["account_id", "version", "deleted_at", "created_by", "updated_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    for field, limit in TEXT_LIMITS.items():
        if len(getattr(record, field, None) or "") > limit:
            errors.setdefault(field, []).append(f"Ensure this field has no more than {limit} characters.")
    for field, limit in LIST_LIMITS.items():
        if len(getattr(record, field, None) or []) > limit:
            errors.setdefault(field, []).append(f"Ensure this field has no more than {limit} elements.")
    for field in JSON_FIELDS:
        if not hasattr(record, field) or field in errors:
            continue
        value = getattr(record, field)
        if value is None and field == "full_style_guide":
            continue
        try:
            validate_document(field, value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if (
        isinstance(record, BrandGuidelines)
        and record.detail_level == BrandGuidelines.DetailLevel.FULL
        and record.full_style_guide is None
    ):
        errors.setdefault("full_style_guide", []).append("Full guidelines need a full style guide.")
    if isinstance(record, Budget):
        if record.start_date and record.end_date and record.end_date < record.start_date:
            errors.setdefault("end_date", []).append("The end date is before the start date.")
        if record.period == Budget.Period.LIFETIME and not (record.start_date and record.end_date):
            errors.setdefault("end_date", []).append("A lifetime budget needs a start and an end date.")
    if isinstance(record, TargetCustomerProfile):
        for prefix, name in TRAITS.values():
            low, high = getattr(record, f"{prefix}_min"), getattr(record, f"{prefix}_max")
            if (
                low is not None
                and high is not None
                and f"{prefix}_min" not in errors
                and f"{prefix}_max" not in errors
                and low > high
            ):
                errors.setdefault(f"{prefix}_max", []).append(
                    f"{name}: the highest percentile ({high}) is below the lowest ({low})."
                )
    if isinstance(record, ProfileContainer):
        for field, _model in REFERENCE_FIELDS.items():
            ref = getattr(record, field)
            if ref is None:
                continue
            if ref.account_id != record.account_id:
                errors.setdefault(field, []).append("This record belongs to another account.")
            elif ref.deleted_at is not None and record.deleted_at is None:
                errors.setdefault(field, []).append("This record is deleted; restore it first.")
    if errors:
        raise ValidationError(errors)


def _reference(ref_model: type[R], value: Any, *, field: str, errors: dict[str, list[str]]) -> R | None:
    """A referenced record given as itself or by its id (deleted ones too: the rules say more)."""
    if value is None or isinstance(value, ref_model):
        return value
    try:
        return ref_model.all_objects.get(pk=value)
    except (ref_model.DoesNotExist, ValidationError, ValueError):
        errors.setdefault(field, []).append(f"No {ref_model._meta.verbose_name} with id {value}.")
        return None


def _coerce_references(model: type[VersionedRecord], data: dict[str, Any]) -> dict[str, Any]:
    """Accept a record or its id for each reference field of a container."""
    if model is not ProfileContainer:
        return data
    data = dict(data)
    errors: dict[str, list[str]] = {}
    for field, ref_model in REFERENCE_FIELDS.items():
        if field in data:
            data[field] = _reference(ref_model, data[field], field=field, errors=errors)
    if errors:
        raise ValidationError(errors)
    return data


def _unknown_fields(model: type[VersionedRecord], data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - set(model.data_fields))
    if unknown:
        raise ValidationError({name: ["This field cannot be set here."] for name in unknown})


def _field_value(record: VersionedRecord, field: str):
    if field in REFERENCE_FIELDS:
        return getattr(record, f"{field}_id")
    return getattr(record, field)


# --------------------------------------------------------------------- create / update


def record_create(*, model: type[R], account_id: str, data: dict[str, Any], actor: User | None) -> R:
    """Create a profile, guidelines, budget or container (version 1)."""
    account_id = clean_account_id(account_id)
    _unknown_fields(model, data)
    data = _coerce_references(model, data)
    record = model(account_id=account_id, created_by=actor, updated_by=actor, **data)
    validate_record(record=record)
    try:
        with transaction.atomic():
            if getattr(record, "is_default", False):
                _lock_default_slot(model, account_id)
                _release_default(model, account_id=account_id, keep_pk=record.pk, actor=actor)
            record.save(force_insert=True)
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    record.refresh_from_db()
    return record


def record_update(*, record: R, changes: dict[str, Any], expected_version: int | None, actor: User | None) -> R:
    """Apply ``changes`` to a record based on ``expected_version`` (optimistic locking).

    A stale version raises ``Conflict`` with the current version; a change that changes
    nothing returns the record unchanged (same version).
    """
    model = type(record)
    changes = dict(changes)
    account_id = changes.pop("account_id", None)
    if account_id is not None and account_id != record.account_id:
        raise ValidationError({"account_id": ["A record cannot move to another account."]})
    _unknown_fields(model, changes)
    changes = _coerce_references(model, changes)
    try:
        with transaction.atomic():
            if changes.get("is_default") is True:
                _lock_default_slot(model, record.account_id)
            try:
                current = model.all_objects.select_for_update().get(pk=record.pk)
            except model.DoesNotExist:
                raise NotFound(f"This {model._meta.verbose_name} no longer exists.") from None
            if current.deleted_at is not None:
                raise Conflict(f"This {model._meta.verbose_name} is deleted; restore it before changing it.")
            _check_version(current.version, expected_version)
            changed = [f for f, v in changes.items() if _field_value(current, f) != _plain(v)]
            if not changed:
                return current
            for field in changed:
                setattr(current, field, changes[field])
            validate_record(record=current)
            if "is_default" in changed and current.is_default:
                _release_default(model, account_id=current.account_id, keep_pk=current.pk, actor=actor)
            current.version += 1
            current.updated_by = actor
            current.save(update_fields=[*changed, "version", "updated_by", "updated_at"])
            current.refresh_from_db()
            if isinstance(current, Budget):
                _fire_alerts(budget=current, actor=actor)
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    return current


def _plain(value):
    """A reference given as a record compares by its id."""
    return value.pk if isinstance(value, VersionedRecord) else value


def record_revert(*, record: R, to_version: int, expected_version: int | None, actor: User | None) -> R:
    """Make the data of an earlier version current again — as a new version."""
    model = type(record)
    old = ProfileVersion.objects.filter(
        profile_type=model.profile_type, profile_id=record.pk, version=to_version
    ).first()
    if old is None:
        raise ValidationError({"to_version": [f"Version {to_version} does not exist."]})
    changes: dict[str, Any] = {}
    for field in model.data_fields:
        model_field = model._meta.get_field(field)
        if model_field.column not in old.data:
            continue
        value = old.data[model_field.column]
        changes[field] = value if field in REFERENCE_FIELDS or value is None else model_field.to_python(value)
    return record_update(record=record, changes=changes, expected_version=expected_version, actor=actor)


# ---------------------------------------------------------- soft delete / restore / purge


def _lock(record: R) -> R:
    try:
        return type(record).all_objects.select_for_update().get(pk=record.pk)
    except type(record).DoesNotExist:
        raise NotFound(f"This {type(record)._meta.verbose_name} no longer exists.") from None


def record_soft_delete(*, record: R, actor: User | None, expected_version: int | None = None) -> R:
    """Hide a record (``deleted_at``); refused while a live container or active usage uses it."""
    model = type(record)
    try:
        with transaction.atomic():
            current = _lock(record)
            if current.deleted_at is not None:
                return current
            _check_version(current.version, expected_version, required=False)
            for user_model, field, in_use in USERS_OF.get(model, []):
                user = user_model.objects.filter(**{field: current}, **in_use).first()
                if user is not None:
                    raise Conflict(
                        f"This {model._meta.verbose_name} is used by {user_model._meta.verbose_name} "
                        f"“{user}” ({user.pk}). Remove it from there first.",
                        extra={"used_by": {"type": user_model._meta.db_table, "id": str(user.pk)}},
                    )
            current.deleted_at = timezone.now()
            current.updated_by = actor
            current.version += 1
            current.save(update_fields=["deleted_at", "updated_by", "version", "updated_at"])
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    current.refresh_from_db()
    return current


def record_restore(*, record: R, actor: User | None) -> R:
    """Bring a soft-deleted record back. A container whose references are deleted cannot come back;
    a default that has been replaced meanwhile comes back as not default."""
    model = type(record)
    try:
        with transaction.atomic():
            if hasattr(record, "is_default"):
                _lock_default_slot(model, record.account_id)
            current = _lock(record)
            if current.deleted_at is None:
                return current
            fields = ["deleted_at", "updated_by", "version", "updated_at"]
            current.deleted_at = None
            if (
                getattr(current, "is_default", False)
                and model.objects.filter(account_id=current.account_id, is_default=True).exists()
            ):
                current.is_default = False
                fields.append("is_default")
            if isinstance(current, ProfileContainer):
                validate_record(record=current)
            current.updated_by = actor
            current.version += 1
            current.save(update_fields=fields)
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    current.refresh_from_db()
    return current


def record_hard_delete(*, record: VersionedRecord, actor: User) -> None:
    """Delete a soft-deleted record for good (staff holding the delete permission).

    Raises ``RestrictedError`` (409 in the API) while any container still references it.
    """
    model = type(record)
    if not (actor.is_active and actor.is_staff and actor.has_perm(f"profiles.delete_{model._meta.model_name}")):
        raise PermissionDenied("Deleting for good needs the delete permission.")
    with transaction.atomic():
        current = _lock(record)
        if current.deleted_at is None:
            raise Conflict("Only a deleted record can be deleted for good. Delete it first.")
        current.delete()


# ---------------------------------------------------------------------------- budgets


@dataclass(frozen=True)
class SpendResult:
    budget: Budget
    alerts_fired: list[Decimal]


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: ["Enter an amount, e.g. 125.50."]}) from None
    if not number.is_finite() or abs(number) >= Decimal("1e13"):
        raise ValidationError({field: ["Enter an amount below 10,000,000,000,000."]})
    if number != number.quantize(Decimal("0.01")):
        raise ValidationError({field: ["An amount has at most two decimal places."]})
    return number


@transaction.atomic
def budget_record_spend(
    *,
    budget: Budget,
    actor: User | None,
    amount_spent: Any = None,
    add: Any = None,
    expected_version: int | None = None,
) -> SpendResult:
    """Set the amount spent (``amount_spent``) or add to it (``add``); fires crossed alert thresholds.

    The budget row is locked for the whole read-modify-write, so concurrent spends add up.
    """
    if (amount_spent is None) == (add is None):
        raise ValidationError({"non_field_errors": ["Give either amount_spent (new total) or add (an increment)."]})
    current = _lock(budget)
    if current.deleted_at is not None:
        raise Conflict("This budget is deleted; restore it first.")
    _check_version(current.version, expected_version, required=False)
    if amount_spent is not None:
        new_total = _decimal(amount_spent, "amount_spent")
    else:
        new_total = current.amount_spent + _decimal(add, "add")
    if new_total < 0:
        raise ValidationError({"amount_spent" if add is None else "add": ["The amount spent cannot be negative."]})
    if new_total != current.amount_spent:
        current.amount_spent = new_total
        current.updated_by = actor
        current.version += 1
        current.save(update_fields=["amount_spent", "updated_by", "version", "updated_at"])
        current.refresh_from_db()
    fired = _fire_alerts(budget=current, actor=actor)
    return SpendResult(budget=current, alerts_fired=fired)


def _fire_alerts(*, budget: Budget, actor: User | None) -> list[Decimal]:
    """Record and announce every enabled threshold the spend has reached and that has not fired yet.

    Runs with the budget row locked (or just inserted); the unique (budget, threshold)
    constraint makes each threshold fire once whatever happens.
    """
    if budget.amount <= 0:
        return []
    percentage = Decimal(budget.percentage_spent or 0)
    spent_percent = budget.amount_spent * 100  # compared exactly, not with the rounded percentage
    due = sorted(
        {
            Decimal(str(alert["threshold"])).quantize(Decimal("0.01"))
            for alert in budget.alerts or []
            if alert.get("enabled", True) and spent_percent >= Decimal(str(alert["threshold"])) * budget.amount
        }
    )
    if not due:
        return []
    already = set(BudgetAlertFiring.objects.filter(budget=budget).values_list("threshold", flat=True))
    fired = [t for t in due if t not in already]
    BudgetAlertFiring.objects.bulk_create(
        [
            BudgetAlertFiring(budget=budget, threshold=t, amount_spent=budget.amount_spent, percentage_spent=percentage)
            for t in fired
        ]
    )
    for threshold in fired:
        signals.budget_alert_fired.send(sender=Budget, budget=budget, threshold=threshold, actor=actor)
    return fired


@dataclass(frozen=True)
class Pacing:
    period_start: date
    period_end: date
    elapsed_fraction: float
    expected_spend: Decimal
    actual_spend: Decimal
    difference: Decimal
    status: str  # not_started | behind | on_track | ahead | ended


def _period_bounds(budget: Budget, today: date) -> tuple[date, date]:
    period = budget.period
    if period == Budget.Period.DAILY:
        start, end = today, today
    elif period == Budget.Period.WEEKLY:
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=6)
    elif period == Budget.Period.MONTHLY:
        start = today.replace(day=1)
        end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    elif period == Budget.Period.QUARTERLY:
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = date(today.year, first_month, 1)
        last_month = first_month + 2
        end = date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
    elif period == Budget.Period.YEARLY:
        start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    else:
        start, end = budget.start_date or today, budget.end_date or today
    if budget.start_date and budget.start_date > start:
        start = budget.start_date
    if budget.end_date and budget.end_date < end:
        end = budget.end_date
    return start, max(start, end)


def budget_pacing(*, budget: Budget, now: datetime | None = None) -> Pacing:
    """Spend expected by now in the current period against the actual spend.

    STANDARD delivery spreads the amount evenly over the period; ACCELERATED expects it
    spent up front. Within ±10 % of the expectation is "on track".
    """
    now = timezone.localtime(now or timezone.now())
    start, end = _period_bounds(budget, now.date())
    tz = now.tzinfo
    begins = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    ends = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    fraction = min(max((now - begins) / (ends - begins), 0.0), 1.0)
    if budget.delivery_method == Budget.DeliveryMethod.ACCELERATED and fraction > 0:
        expected = budget.amount
    else:
        expected = (budget.amount * Decimal(str(round(fraction, 6)))).quantize(Decimal("0.01"))
    actual = budget.amount_spent
    if now >= ends:
        status = "ended"
    elif expected == 0:
        status = "not_started"
    elif actual < expected * Decimal("0.9"):
        status = "behind"
    elif actual > expected * Decimal("1.1"):
        status = "ahead"
    else:
        status = "on_track"
    return Pacing(
        period_start=start,
        period_end=end,
        elapsed_fraction=round(fraction, 4),
        expected_spend=expected,
        actual_spend=actual,
        difference=actual - expected,
        status=status,
    )


@dataclass(frozen=True)
class BudgetCheck:
    budgets_checked: int
    alerts_fired: int
    pacing: dict[str, int]  # status -> number of budgets


def budgets_check(*, now: datetime | None = None) -> BudgetCheck:
    """The periodic budget check: fire every alert threshold a live budget has reached but that has
    not fired (a threshold lowered after the spend, a spend written by an import), and count the
    budgets by pacing status. Idempotent: a threshold fires once per budget (unique constraint).
    """
    fired = 0
    pacing: dict[str, int] = {}
    ids = list(
        Budget.objects.filter(status=Budget.Status.ACTIVE, amount__gt=0).order_by("pk").values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            budget = Budget.objects.select_for_update().filter(pk=pk).first()
            if budget is None:
                continue
            fired += len(_fire_alerts(budget=budget, actor=None))
        status = budget_pacing(budget=budget, now=now).status
        pacing[status] = pacing.get(status, 0) + 1
    return BudgetCheck(budgets_checked=len(ids), alerts_fired=fired, pacing=pacing)


# --------------------------------------------------------------------- campaign usage

UPSERT_USAGE = """
INSERT INTO campaign_profile_usage AS u (
    id, campaign_id, account_id, usage_type, container_id, customer_profile_id, brand_guidelines_id, budget_id,
    is_active, metadata, created_at, updated_at, created_by, updated_by
) VALUES (gen_random_uuid(), %s, %s, %s, %s, %s, %s, %s, true, %s, now(), now(), %s, %s)
ON CONFLICT (campaign_id) WHERE is_active DO UPDATE SET
    usage_type = EXCLUDED.usage_type,
    container_id = EXCLUDED.container_id,
    customer_profile_id = EXCLUDED.customer_profile_id,
    brand_guidelines_id = EXCLUDED.brand_guidelines_id,
    budget_id = EXCLUDED.budget_id,
    metadata = EXCLUDED.metadata,
    updated_at = now(),
    updated_by = EXCLUDED.updated_by
WHERE u.account_id = EXCLUDED.account_id
RETURNING u.id, (u.xmax = 0) AS created
"""


def campaign_usage_record(
    *,
    campaign_id: str,
    account_id: str,
    usage_type: str,
    actor: User | None,
    container: ProfileContainer | UUID | str | None = None,
    customer_profile: TargetCustomerProfile | UUID | str | None = None,
    brand_guidelines: BrandGuidelines | UUID | str | None = None,
    budget: Budget | UUID | str | None = None,
    metadata: dict | None = None,
) -> tuple[CampaignProfileUsage, bool]:
    """Record what a campaign uses; replaces the campaign's active usage atomically (upsert).

    The records are given as themselves or by id. Returns the usage and whether it is a new
    row (False: the active one was replaced).
    """
    account_id = clean_account_id(account_id)
    campaign_id = str(campaign_id or "").strip()
    errors: dict[str, list[str]] = {}
    container = _reference(ProfileContainer, container, field="container", errors=errors)
    customer_profile = _reference(TargetCustomerProfile, customer_profile, field="customer_profile", errors=errors)
    brand_guidelines = _reference(BrandGuidelines, brand_guidelines, field="brand_guidelines", errors=errors)
    budget = _reference(Budget, budget, field="budget", errors=errors)
    if errors:
        raise ValidationError(errors)
    if not campaign_id or len(campaign_id) > 255:
        errors["campaign_id"] = ["A campaign id of 1 to 255 characters is required."]
    individual = {"customer_profile": customer_profile, "brand_guidelines": brand_guidelines, "budget": budget}
    has_individual = any(v is not None for v in individual.values())
    if usage_type == CampaignProfileUsage.UsageType.CONTAINER:
        if container is None:
            errors.setdefault("container", []).append("A CONTAINER usage needs a container.")
        for field, value in individual.items():
            if value is not None:
                errors.setdefault(field, []).append("A CONTAINER usage takes everything from the container.")
    elif usage_type == CampaignProfileUsage.UsageType.INDIVIDUAL:
        if container is not None:
            errors.setdefault("container", []).append("An INDIVIDUAL usage has no container.")
        if not has_individual:
            errors.setdefault("non_field_errors", []).append(
                "An INDIVIDUAL usage needs a customer profile, brand guidelines or a budget."
            )
    elif usage_type == CampaignProfileUsage.UsageType.HYBRID:
        if container is None:
            errors.setdefault("container", []).append("A HYBRID usage needs a container.")
        if not has_individual:
            errors.setdefault("non_field_errors", []).append("A HYBRID usage overrides at least one of the profiles.")
    else:
        errors["usage_type"] = ["Choose CONTAINER, INDIVIDUAL or HYBRID."]
    for field, value in {"container": container, **individual}.items():
        if value is None:
            continue
        if value.account_id != account_id:
            errors.setdefault(field, []).append("This record belongs to another account.")
        elif value.deleted_at is not None:
            errors.setdefault(field, []).append("This record is deleted.")
    metadata = metadata or {}
    try:
        validate_document("metadata", metadata)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    from psycopg.types.json import Jsonb

    params = [
        campaign_id,
        account_id,
        usage_type,
        container.pk if container else None,
        customer_profile.pk if customer_profile else None,
        brand_guidelines.pk if brand_guidelines else None,
        budget.pk if budget else None,
        Jsonb(metadata),
        actor.pk if actor else None,
        actor.pk if actor else None,
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(UPSERT_USAGE, params)
            row = cursor.fetchone()
    except IntegrityError as exc:
        raise _integrity_conflict(exc) from exc
    if row is None:
        raise Conflict("This campaign's active usage belongs to another account.")
    return CampaignProfileUsage.objects.select_related(*USAGE_RELATED).get(pk=row[0]), row[1]


@transaction.atomic
def campaign_usage_deactivate(*, usage: CampaignProfileUsage, actor: User | None) -> CampaignProfileUsage:
    """End a campaign's usage (it stays on record, inactive)."""
    current = CampaignProfileUsage.objects.select_for_update().get(pk=usage.pk)
    if current.is_active:
        current.is_active = False
        current.updated_by = actor
        current.save(update_fields=["is_active", "updated_by", "updated_at"])
    return current


# ------------------------------------------------------- typed entry points per model


def customer_profile_create(*, account_id: str, data: dict[str, Any], actor: User | None) -> TargetCustomerProfile:
    """Seed example 1."""
    return record_create(model=TargetCustomerProfile, account_id=account_id, data=data, actor=actor)


def brand_guidelines_create(*, account_id: str, data: dict[str, Any], actor: User | None) -> BrandGuidelines:
    return record_create(model=BrandGuidelines, account_id=account_id, data=data, actor=actor)


def budget_create(*, account_id: str, data: dict[str, Any], actor: User | None) -> Budget:
    return record_create(model=Budget, account_id=account_id, data=data, actor=actor)


def container_create(*, account_id: str, data: dict[str, Any], actor: User | None) -> ProfileContainer:
    """Seed example 3."""
    return record_create(model=ProfileContainer, account_id=account_id, data=data, actor=actor)


# The parts of a first set-up, in the order they are created: (prefix of their errors, model).
FIRST_SETUP_PARTS = (
    ("customer_profile", TargetCustomerProfile),
    ("brand_guidelines", BrandGuidelines),
    ("budget", Budget),
)


def _prefixed(exc: ValidationError, prefix: str) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {prefix: exc.messages}
    return {f"{prefix}.{field}": messages for field, messages in exc.message_dict.items()}


@transaction.atomic
def account_first_setup(
    *,
    account_id: str,
    customer_profile: dict[str, Any],
    brand_guidelines: dict[str, Any],
    budget: dict[str, Any],
    container: dict[str, Any],
    actor: User | None,
) -> ProfileContainer:
    """Seed 003's first-time user: a target customer profile, brand guidelines and a budget, and the
    account's default (and primary) container holding the three — all or nothing.

    Refused (``Conflict``) when the account already has a profile, guidelines or a budget: its
    records are then set up one by one. Errors are keyed ``<part>.<field>``
    (``customer_profile.name``, ``budget.amount``, ``container.name``).
    """
    account_id = clean_account_id(account_id)
    # One set-up per account at a time: the second waits, then finds the account set up.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"profiles:first-setup:{account_id}"])
    if not account_profile_status(account_id=account_id)["is_first_time_user"]:
        message = f"The account “{account_id}” already has campaign profiles; add its records one by one."
        raise Conflict(message, fields={"account_id": [message]}, extra={"account_id": account_id})
    parts = {"customer_profile": customer_profile, "brand_guidelines": brand_guidelines, "budget": budget}
    errors: dict[str, list[str]] = {}
    for prefix, model in FIRST_SETUP_PARTS:
        data = {**parts[prefix], "is_default": True} if model is not Budget else {**parts[prefix]}
        try:
            _unknown_fields(model, data)
            validate_record(record=model(account_id=account_id, **data))
        except ValidationError as exc:
            errors.update(_prefixed(exc, prefix))
    container_data = {"status": ProfileContainer.Status.ACTIVE, **container, "is_default": True, "is_primary": True}
    try:
        _unknown_fields(ProfileContainer, container_data)
        validate_record(record=ProfileContainer(account_id=account_id, **container_data))
    except ValidationError as exc:
        errors.update(_prefixed(exc, "container"))
    if errors:
        raise ValidationError(errors)
    created = {
        "customer_profile": customer_profile_create(
            account_id=account_id, data={**customer_profile, "is_default": True}, actor=actor
        ),
        "brand_guidelines": brand_guidelines_create(
            account_id=account_id, data={**brand_guidelines, "is_default": True}, actor=actor
        ),
        "budget": budget_create(account_id=account_id, data=budget, actor=actor),
    }
    return container_create(account_id=account_id, data={**container_data, **created}, actor=actor)


def container_make_default(
    *, container: ProfileContainer, expected_version: int | None, actor: User | None
) -> ProfileContainer:
    """Make a container the account's default; the previous default stops being it (same transaction)."""
    return record_update(record=container, changes={"is_default": True}, expected_version=expected_version, actor=actor)
