"""Campaign planning: target customer profiles, brand guidelines, budgets, containers, usage.

Tables keep seed 003's names and columns. What the database guarantees on its own,
whatever writes to it — all of it declared here, in the models' ``Meta`` (constraints,
indexes, ``pgtrigger`` triggers; the building blocks are in ``profiles.db_rules``):

* enums, ``amount``/``amount_spent`` >= 0 and the campaign-usage type rules are CHECK
  constraints; one default container (and one default profile) per account among live
  rows and one active usage per campaign are partial unique indexes;
* ``amount_remaining``, ``percentage_spent``, ``is_complete``, ``missing_profiles`` and
  the full-text ``search_vector`` columns are generated columns;
* ``version`` starts at 1 and grows by exactly 1 on every real change, and every version
  is copied to ``profile_version_history`` (triggers ``versioning`` and
  ``version_history``, shared by every versioned model); ``account_id`` never changes;
* foreign keys carry real ``ON DELETE`` actions (``ForeignKeyConstraint``): containers
  reference profiles, guidelines and budgets ``RESTRICT``, usage and alert firings go with
  what they reference (``CASCADE``);
* a live container or active usage only references live records of its own account
  (trigger ``check_references``), and a record that a live container or active usage
  references cannot be soft-deleted (trigger ``refuse_soft_delete``).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, ExpressionWrapper, F, Func, Q, Value, When
from django.db.models.functions import Least, Now, Round

from profiles.db_rules import (
    VersionHistory,
    Versioning,
    check_references,
    foreign_key,
    refuse_soft_delete_in_use,
)

SEARCH_CONFIG = "english"


class ImmutableArrayToString(Func):
    """``profiles_immutable_array_to_string(text[])``: ``array_to_string`` usable in generated columns."""

    function = "profiles_immutable_array_to_string"
    output_field = models.TextField()


class JsonbStringsToTsvector(Func):
    """The string values of a JSON document as a tsvector (keys are left out)."""

    template = (
        f"jsonb_to_tsvector('{SEARCH_CONFIG}'::regconfig, COALESCE(%(expressions)s, '{{}}'::jsonb), '[\"string\"]')"
    )
    output_field = SearchVectorField()


class SetWeight(Func):
    function = "setweight"
    output_field = SearchVectorField()

    def __init__(self, expression, weight: str):
        super().__init__(expression, Value(weight))


def _vector(*parts):
    """Concatenate tsvectors with ``||`` (immutable, so usable in a generated column)."""
    combined = parts[0]
    for part in parts[1:]:
        combined = Func(
            combined, part, template="(%(expressions)s)", arg_joiner=" || ", output_field=SearchVectorField()
        )
    return combined


def text_array() -> ArrayField:
    """A ``TEXT[]`` column as seed 003 declares it (so its SQL, ``interests && ARRAY[$3]``, runs
    as written); each item has at most 255 characters, checked when the record is validated."""
    return ArrayField(
        models.TextField(validators=[MaxLengthValidator(255)]),
        default=list,
        db_default=Value([], output_field=ArrayField(models.TextField())),
        blank=True,
    )


class LiveManager(models.Manager):
    """Rows that are not soft-deleted: the default manager."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllRowsManager(models.Manager):
    """Every row, soft-deleted ones included (``Model.all_objects``, the base manager)."""


class AuditedRecord(models.Model):
    """Columns every table shares: UUID key, account, metadata, audit trail."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    account_id = models.CharField(max_length=255, db_index=True, help_text="Free-form account identifier.")
    metadata = models.JSONField(
        default=dict, db_default={}, blank=True, help_text="Tags, notes, source and other extras."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())
    # SET_NULL: a person's erasure must not be blocked by campaign records; the version
    # history keeps who did what while the person exists.
    # Columns named as in seed 003 (``created_by``, ``updated_by``), so its SQL runs as written.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_column="created_by",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_column="updated_by",
    )

    class Meta:
        abstract = True


class VersionedRecord(AuditedRecord):
    """Versioned, soft-deletable record (profiles, guidelines, budgets, containers)."""

    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Set by subclasses: the version-history ``profile_type`` and the writable fields.
    profile_type: str = ""
    data_fields: tuple[str, ...] = ()

    objects = LiveManager()
    all_objects = AllRowsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        # Shared by every versioned table; subclasses add theirs to this list.
        triggers = [Versioning(), VersionHistory()]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def _common_constraints(table: str) -> list:
    return [
        models.CheckConstraint(condition=Q(version__gte=1), name=f"{table}_version_positive"),
    ]


def _triggers(*, referenced_as: str, used_by_containers: bool = True) -> list:
    """The shared versioning triggers, and no soft delete while a live container or active usage
    references the record through its ``referenced_as`` column."""
    used_by = [("campaign_profile_usage", referenced_as, "is_active")]
    if used_by_containers:
        used_by.insert(0, ("customer_profile_containers", referenced_as, "deleted_at IS NULL"))
    return [*VersionedRecord.Meta.triggers, refuse_soft_delete_in_use(used_by=used_by)]


# What a container references (column -> table): the same account, live while the container is.
CONTAINER_REFERENCES = {
    "customer_profile_id": "target_customer_profiles",
    "brand_guidelines_id": "brand_guidelines",
    "budget_id": "budgets",
}


def _common_indexes(table: str, *, short: str) -> list:
    return [
        models.Index(fields=["deleted_at"], name=f"{short}_live", condition=Q(deleted_at__isnull=True)),
        models.Index(
            fields=["account_id", "-created_at"], name=f"{short}_account_live", condition=Q(deleted_at__isnull=True)
        ),
        GinIndex(fields=["metadata"], name=f"{short}_metadata_gin"),
        GinIndex(fields=["search_vector"], name=f"{short}_search_gin"),
    ]


# The Big Five domains a profile may narrow its audience by: code -> (field prefix, name).
TRAITS: dict[str, tuple[str, str]] = {
    "O": ("openness", "Openness"),
    "C": ("conscientiousness", "Conscientiousness"),
    "E": ("extraversion", "Extraversion"),
    "A": ("agreeableness", "Agreeableness"),
    "N": ("neuroticism", "Neuroticism"),
}
TRAIT_FIELDS: tuple[str, ...] = tuple(f"{prefix}_{end}" for prefix, _ in TRAITS.values() for end in ("min", "max"))
PERCENTILE_MIN, PERCENTILE_MAX = 0, 100


def percentile_bound(trait: str, end: str) -> models.PositiveSmallIntegerField:
    """One end of a trait range: a percentile 0–100, empty for an open end."""
    return models.PositiveSmallIntegerField(
        f"{trait} {'at least' if end == 'min' else 'at most'} (percentile)",
        null=True,
        blank=True,
        validators=[MinValueValidator(PERCENTILE_MIN), MaxValueValidator(PERCENTILE_MAX)],
    )


def _trait_constraints(table: str) -> list:
    """Each end within 0–100 and min <= max, for every trait (CHECK constraints)."""
    constraints = []
    for prefix, _ in TRAITS.values():
        low, high = f"{prefix}_min", f"{prefix}_max"
        for end in (low, high):
            constraints.append(
                models.CheckConstraint(
                    condition=Q(**{f"{end}__isnull": True})
                    | Q(**{f"{end}__gte": PERCENTILE_MIN, f"{end}__lte": PERCENTILE_MAX}),
                    name=f"{table}_{end}_percentile",
                )
            )
        constraints.append(
            models.CheckConstraint(
                condition=Q(**{f"{low}__isnull": True})
                | Q(**{f"{high}__isnull": True})
                | Q(**{f"{low}__lte": F(high)}),
                name=f"{table}_{prefix}_min_le_max",
            )
        )
    return constraints


class TargetCustomerProfile(VersionedRecord):
    """Who a campaign is for: demographics, interests, behaviour, persona and, optionally,
    Big Five trait ranges (percentiles of the customers' latest results)."""

    profile_type = "target_customer_profiles"
    data_fields = (
        "name",
        "description",
        "demographics",
        "interests",
        "behavior",
        "persona",
        "is_default",
        "is_active",
        "metadata",
        *TRAIT_FIELDS,
    )

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="", db_default="")
    openness_min = percentile_bound("Openness", "min")
    openness_max = percentile_bound("Openness", "max")
    conscientiousness_min = percentile_bound("Conscientiousness", "min")
    conscientiousness_max = percentile_bound("Conscientiousness", "max")
    extraversion_min = percentile_bound("Extraversion", "min")
    extraversion_max = percentile_bound("Extraversion", "max")
    agreeableness_min = percentile_bound("Agreeableness", "min")
    agreeableness_max = percentile_bound("Agreeableness", "max")
    neuroticism_min = percentile_bound("Neuroticism", "min")
    neuroticism_max = percentile_bound("Neuroticism", "max")
    demographics = models.JSONField(default=dict, db_default={}, blank=True)
    interests = text_array()
    behavior = models.JSONField(default=dict, db_default={}, blank=True)
    persona = models.JSONField(default=dict, db_default={}, blank=True)
    is_default = models.BooleanField(default=False, db_default=False)
    is_active = models.BooleanField(default=True, db_default=True)
    search_vector = models.GeneratedField(
        expression=_vector(
            SearchVector("name", config=SEARCH_CONFIG, weight="A"),
            SearchVector("description", config=SEARCH_CONFIG, weight="B"),
            SetWeight(SearchVector(ImmutableArrayToString("interests", Value(" ")), config=SEARCH_CONFIG), "B"),
            SetWeight(JsonbStringsToTsvector("demographics"), "C"),
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta(VersionedRecord.Meta):
        db_table = "target_customer_profiles"
        verbose_name = "target customer profile"
        ordering = ["-created_at", "id"]
        constraints = [
            *_common_constraints("target_customer_profiles"),
            models.UniqueConstraint(
                fields=["account_id"],
                condition=Q(is_default=True, deleted_at__isnull=True),
                name="target_customer_profiles_one_default_per_account",
            ),
            *_trait_constraints("target_customer_profiles"),
        ]
        triggers = _triggers(referenced_as="customer_profile_id")
        indexes = [
            *_common_indexes("target_customer_profiles", short="tcp"),
            models.Index(fields=["account_id", "is_active", "-created_at"], name="tcp_account_active_created"),
            GinIndex(fields=["demographics"], name="tcp_demographics_gin"),
            GinIndex(fields=["behavior"], name="tcp_behavior_gin"),
            GinIndex(fields=["persona"], name="tcp_persona_gin"),
            GinIndex(fields=["interests"], name="tcp_interests_gin"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def trait_ranges(self) -> dict[str, tuple[int | None, int | None]]:
        """The traits this profile narrows by: code -> (min, max), open ends as None."""
        ranges = {}
        for code, (prefix, _) in TRAITS.items():
            low, high = getattr(self, f"{prefix}_min"), getattr(self, f"{prefix}_max")
            if low is not None or high is not None:
                ranges[code] = (low, high)
        return ranges


class BrandGuidelines(VersionedRecord):
    """A brand's style guide: a quick high-level reference and, optionally, the full guide."""

    class DetailLevel(models.TextChoices):
        HIGH_LEVEL = "high-level", "High-level"
        FULL = "full", "Full"

    profile_type = "brand_guidelines"
    data_fields = (
        "brand_name",
        "detail_level",
        "high_level_guidelines",
        "full_style_guide",
        "industry",
        "brand_values",
        "is_default",
        "is_active",
        "metadata",
    )

    brand_name = models.CharField(max_length=255)
    detail_level = models.CharField(
        max_length=50, choices=DetailLevel.choices, default=DetailLevel.HIGH_LEVEL, db_default="high-level"
    )
    high_level_guidelines = models.JSONField(default=dict, db_default={}, blank=True)
    full_style_guide = models.JSONField(null=True, blank=True, help_text="Required when the detail level is full.")
    industry = models.CharField(max_length=255, blank=True, default="", db_default="")
    brand_values = text_array()
    is_default = models.BooleanField(default=False, db_default=False)
    is_active = models.BooleanField(default=True, db_default=True)
    search_vector = models.GeneratedField(
        expression=_vector(
            SearchVector("brand_name", config=SEARCH_CONFIG, weight="A"),
            SearchVector("industry", config=SEARCH_CONFIG, weight="B"),
            SetWeight(SearchVector(ImmutableArrayToString("brand_values", Value(" ")), config=SEARCH_CONFIG), "B"),
            SetWeight(JsonbStringsToTsvector("high_level_guidelines"), "C"),
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta(VersionedRecord.Meta):
        db_table = "brand_guidelines"
        verbose_name = "brand guidelines"
        verbose_name_plural = "brand guidelines"
        ordering = ["-created_at", "id"]
        constraints = [
            *_common_constraints("brand_guidelines"),
            models.CheckConstraint(
                condition=Q(detail_level__in=["high-level", "full"]), name="brand_guidelines_detail_level_valid"
            ),
            models.CheckConstraint(
                condition=~Q(detail_level="full") | Q(full_style_guide__isnull=False),
                name="brand_guidelines_full_has_style_guide",
            ),
        ]
        triggers = _triggers(referenced_as="brand_guidelines_id")
        indexes = [
            *_common_indexes("brand_guidelines", short="bg"),
            models.Index(fields=["account_id", "is_active", "-created_at"], name="bg_account_active_created"),
            models.Index(fields=["industry"], name="bg_industry"),
            GinIndex(fields=["high_level_guidelines"], name="bg_high_level_gin"),
            GinIndex(fields=["full_style_guide"], name="bg_full_style_gin"),
            GinIndex(fields=["brand_values"], name="bg_brand_values_gin"),
        ]

    def __str__(self) -> str:
        return self.brand_name


class Budget(VersionedRecord):
    """A campaign budget (Zilkr Dispatcher compatible) with spend tracking and alerts."""

    class DeliveryMethod(models.TextChoices):
        STANDARD = "STANDARD", "Standard (even pacing)"
        ACCELERATED = "ACCELERATED", "Accelerated (as fast as possible)"

    class Period(models.TextChoices):
        DAILY = "DAILY", "Daily"
        WEEKLY = "WEEKLY", "Weekly"
        MONTHLY = "MONTHLY", "Monthly"
        QUARTERLY = "QUARTERLY", "Quarterly"
        YEARLY = "YEARLY", "Yearly"
        LIFETIME = "LIFETIME", "Lifetime (start to end date)"

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        PAUSED = "PAUSED", "Paused"
        EXHAUSTED = "EXHAUSTED", "Exhausted"
        COMPLETED = "COMPLETED", "Completed"
        CANCELLED = "CANCELLED", "Cancelled"

    class Type(models.TextChoices):
        CAMPAIGN = "CAMPAIGN", "Campaign"
        AD_GROUP = "AD_GROUP", "Ad group"
        ACCOUNT = "ACCOUNT", "Account"
        CHANNEL = "CHANNEL", "Channel"

    profile_type = "budgets"
    data_fields = (
        "name",
        "amount",
        "delivery_method",
        "period",
        "status",
        "budget_type",
        "is_shared",
        "campaign_ids",
        "alerts",
        "start_date",
        "end_date",
        "is_default",
        "metadata",
    )

    name = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=15, decimal_places=2, validators=[MinValueValidator(0)])
    delivery_method = models.CharField(
        max_length=50, choices=DeliveryMethod.choices, default=DeliveryMethod.STANDARD, db_default="STANDARD"
    )
    period = models.CharField(max_length=50, choices=Period.choices, default=Period.MONTHLY, db_default="MONTHLY")
    status = models.CharField(max_length=50, choices=Status.choices, default=Status.ACTIVE, db_default="ACTIVE")
    budget_type = models.CharField(
        "type", max_length=50, db_column="type", choices=Type.choices, default=Type.CAMPAIGN, db_default="CAMPAIGN"
    )
    amount_spent = models.DecimalField(
        max_digits=15, decimal_places=2, default=Decimal("0.00"), db_default=Decimal("0.00"), editable=False
    )
    amount_remaining = models.GeneratedField(
        expression=F("amount") - F("amount_spent"),
        output_field=models.DecimalField(max_digits=15, decimal_places=2),
        db_persist=True,
    )
    # Capped so that an overspend of a tiny budget cannot overflow the column.
    percentage_spent = models.GeneratedField(
        expression=Case(
            When(
                amount__gt=0,
                then=Least(
                    Round(F("amount_spent") * Value(Decimal(100)) / F("amount"), precision=2),
                    Value(Decimal("99999.99")),
                ),
            ),
            default=Value(Decimal("0.00")),
            output_field=models.DecimalField(max_digits=7, decimal_places=2),
        ),
        output_field=models.DecimalField(max_digits=7, decimal_places=2),
        db_persist=True,
    )
    is_shared = models.BooleanField(default=False, db_default=False)
    campaign_ids = text_array()
    alerts = models.JSONField(
        default=list, db_default=[], blank=True, help_text='e.g. [{"threshold": 80}, {"threshold": 100}]'
    )
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    is_default = models.BooleanField(default=False, db_default=False)
    search_vector = models.GeneratedField(
        expression=_vector(
            SearchVector("name", config=SEARCH_CONFIG, weight="A"),
            SetWeight(SearchVector(ImmutableArrayToString("campaign_ids", Value(" ")), config=SEARCH_CONFIG), "B"),
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta(VersionedRecord.Meta):
        db_table = "budgets"
        ordering = ["-created_at", "id"]
        constraints = [
            *_common_constraints("budgets"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budgets_amount_non_negative"),
            models.CheckConstraint(condition=Q(amount_spent__gte=0), name="budgets_amount_spent_non_negative"),
            models.CheckConstraint(
                condition=Q(delivery_method__in=["STANDARD", "ACCELERATED"]), name="budgets_delivery_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(period__in=["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY", "LIFETIME"]),
                name="budgets_period_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "PAUSED", "EXHAUSTED", "COMPLETED", "CANCELLED"]),
                name="budgets_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(budget_type__in=["CAMPAIGN", "AD_GROUP", "ACCOUNT", "CHANNEL"]), name="budgets_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True) | Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="budgets_end_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(period="LIFETIME") | Q(start_date__isnull=False, end_date__isnull=False),
                name="budgets_lifetime_has_dates",
            ),
        ]
        triggers = _triggers(referenced_as="budget_id")
        indexes = [
            *_common_indexes("budgets", short="budget"),
            models.Index(fields=["account_id", "status", "-created_at"], name="budget_account_status_created"),
            GinIndex(fields=["campaign_ids"], name="budget_campaign_ids_gin"),
            GinIndex(fields=["alerts"], name="budget_alerts_gin"),
        ]

    def __str__(self) -> str:
        return self.name


class ProfileContainer(VersionedRecord):
    """A target customer profile, brand guidelines and budget grouped for an account."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        INACTIVE = "INACTIVE", "Inactive"
        DRAFT = "DRAFT", "Draft"
        ARCHIVED = "ARCHIVED", "Archived"

    profile_type = "customer_profile_containers"
    data_fields = (
        "name",
        "description",
        "customer_profile",
        "brand_guidelines",
        "budget",
        "is_default",
        "is_primary",
        "status",
        "metadata",
    )

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="", db_default="")
    # RESTRICT here and in the database: the constraints are declared in Meta (with
    # ON DELETE RESTRICT), so a raw DELETE is refused too.
    customer_profile = models.ForeignKey(
        TargetCustomerProfile,
        on_delete=models.RESTRICT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="containers",
    )
    brand_guidelines = models.ForeignKey(
        BrandGuidelines,
        on_delete=models.RESTRICT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="containers",
    )
    budget = models.ForeignKey(
        Budget, on_delete=models.RESTRICT, db_constraint=False, null=True, blank=True, related_name="containers"
    )
    is_default = models.BooleanField(default=False, db_default=False)
    is_primary = models.BooleanField(default=False, db_default=False)
    status = models.CharField(max_length=50, choices=Status.choices, default=Status.ACTIVE, db_default="ACTIVE")
    is_complete = models.GeneratedField(
        expression=ExpressionWrapper(
            Q(customer_profile__isnull=False, brand_guidelines__isnull=False, budget__isnull=False),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    missing_profiles = models.GeneratedField(
        expression=Func(
            template=(
                "array_remove(ARRAY["
                "CASE WHEN customer_profile_id IS NULL THEN 'customer_profile' END, "
                "CASE WHEN brand_guidelines_id IS NULL THEN 'brand_guidelines' END, "
                "CASE WHEN budget_id IS NULL THEN 'budget' END]::text[], NULL)"
            ),
            output_field=ArrayField(models.TextField()),
        ),
        output_field=ArrayField(models.TextField()),
        db_persist=True,
    )
    search_vector = models.GeneratedField(
        expression=_vector(
            SearchVector("name", config=SEARCH_CONFIG, weight="A"),
            SearchVector("description", config=SEARCH_CONFIG, weight="B"),
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta(VersionedRecord.Meta):
        db_table = "customer_profile_containers"
        verbose_name = "profile container"
        ordering = ["-created_at", "id"]
        constraints = [
            *_common_constraints("customer_profile_containers"),
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "INACTIVE", "DRAFT", "ARCHIVED"]),
                name="customer_profile_containers_status_valid",
            ),
            models.UniqueConstraint(
                fields=["account_id"],
                condition=Q(is_default=True, deleted_at__isnull=True),
                name="customer_profile_containers_one_default_per_account",
            ),
            *(
                foreign_key("customer_profile_containers", field, to=to, on_delete="RESTRICT")
                for field, to in (
                    ("customer_profile", "profiles.TargetCustomerProfile"),
                    ("brand_guidelines", "profiles.BrandGuidelines"),
                    ("budget", "profiles.Budget"),
                )
            ),
        ]
        triggers = [
            *_triggers(referenced_as="container_id", used_by_containers=False),
            check_references(references=CONTAINER_REFERENCES, in_use="NEW.deleted_at IS NULL", also_on=["deleted_at"]),
        ]
        indexes = [
            *_common_indexes("customer_profile_containers", short="cpc"),
            models.Index(fields=["account_id", "status", "-created_at"], name="cpc_account_status_created"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignProfileUsage(AuditedRecord):
    """Which profiles a campaign uses: a container, individual records, or a container with overrides."""

    class UsageType(models.TextChoices):
        CONTAINER = "CONTAINER", "Container"
        INDIVIDUAL = "INDIVIDUAL", "Individual profiles"
        HYBRID = "HYBRID", "Container with overrides"

    # CASCADE here and in the database (constraints declared in Meta).
    campaign_id = models.CharField(max_length=255)
    container = models.ForeignKey(
        ProfileContainer,
        on_delete=models.CASCADE,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="campaign_usages",
    )
    customer_profile = models.ForeignKey(
        TargetCustomerProfile,
        on_delete=models.CASCADE,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="campaign_usages",
    )
    brand_guidelines = models.ForeignKey(
        BrandGuidelines,
        on_delete=models.CASCADE,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="campaign_usages",
    )
    budget = models.ForeignKey(
        Budget, on_delete=models.CASCADE, db_constraint=False, null=True, blank=True, related_name="campaign_usages"
    )
    usage_type = models.CharField(max_length=50, choices=UsageType.choices)
    is_active = models.BooleanField(default=True, db_default=True)

    class Meta:
        db_table = "campaign_profile_usage"
        verbose_name = "campaign profile usage"
        ordering = ["-updated_at", "id"]
        base_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_type__in=["CONTAINER", "INDIVIDUAL", "HYBRID"]),
                name="campaign_profile_usage_type_valid",
            ),
            models.CheckConstraint(
                condition=~Q(usage_type="CONTAINER")
                | Q(
                    container__isnull=False,
                    customer_profile__isnull=True,
                    brand_guidelines__isnull=True,
                    budget__isnull=True,
                ),
                name="campaign_profile_usage_container_rule",
            ),
            models.CheckConstraint(
                condition=~Q(usage_type="INDIVIDUAL")
                | (
                    Q(container__isnull=True)
                    & (Q(customer_profile__isnull=False) | Q(brand_guidelines__isnull=False) | Q(budget__isnull=False))
                ),
                name="campaign_profile_usage_individual_rule",
            ),
            models.CheckConstraint(
                condition=~Q(usage_type="HYBRID")
                | (
                    Q(container__isnull=False)
                    & (Q(customer_profile__isnull=False) | Q(brand_guidelines__isnull=False) | Q(budget__isnull=False))
                ),
                name="campaign_profile_usage_hybrid_rule",
            ),
            models.UniqueConstraint(
                fields=["campaign_id"], condition=Q(is_active=True), name="campaign_profile_usage_one_active"
            ),
            *(
                foreign_key("campaign_profile_usage", field, to=to, on_delete="CASCADE")
                for field, to in (
                    ("container", "profiles.ProfileContainer"),
                    ("customer_profile", "profiles.TargetCustomerProfile"),
                    ("brand_guidelines", "profiles.BrandGuidelines"),
                    ("budget", "profiles.Budget"),
                )
            ),
        ]
        triggers = [
            check_references(
                references={"container_id": "customer_profile_containers", **CONTAINER_REFERENCES},
                in_use="NEW.is_active",
                also_on=["is_active", "account_id"],
            ),
        ]
        indexes = [
            models.Index(fields=["account_id", "is_active"], name="cpu_account_active"),
            models.Index(fields=["campaign_id"], name="cpu_campaign"),
            GinIndex(fields=["metadata"], name="cpu_metadata_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} ({self.usage_type})"


class BudgetAlertFiring(models.Model):
    """An alert threshold that a budget's spend crossed; each threshold fires once."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, db_constraint=False, related_name="alert_firings")
    threshold = models.DecimalField(max_digits=7, decimal_places=2)
    amount_spent = models.DecimalField(max_digits=15, decimal_places=2)
    percentage_spent = models.DecimalField(max_digits=7, decimal_places=2)
    fired_at = models.DateTimeField(auto_now_add=True, db_default=Now())

    class Meta:
        db_table = "budget_alert_firings"
        ordering = ["budget", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "threshold"], name="budget_alert_firings_once_per_threshold"),
            models.CheckConstraint(condition=Q(threshold__gt=0), name="budget_alert_firings_threshold_positive"),
            foreign_key("budget_alert_firings", "budget", to="profiles.Budget", on_delete="CASCADE"),
        ]

    def __str__(self) -> str:
        return f"{self.threshold}% of {self.budget_id}"


class ProfileVersion(models.Model):
    """One version of a campaign record: who, when, and the full data (append-only).

    Rows are written by the ``version_history`` trigger, never by Python code.
    """

    class ProfileType(models.TextChoices):
        CUSTOMER_PROFILE = "target_customer_profiles", "Target customer profile"
        BRAND_GUIDELINES = "brand_guidelines", "Brand guidelines"
        BUDGET = "budgets", "Budget"
        CONTAINER = "customer_profile_containers", "Profile container"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False)
    profile_type = models.CharField(max_length=50, choices=ProfileType.choices)
    profile_id = models.UUIDField()
    version = models.PositiveIntegerField()
    data = models.JSONField()
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "profile_version_history"
        verbose_name = "profile version"
        ordering = ["profile_type", "profile_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile_type", "profile_id", "version"], name="profile_version_history_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(
                    profile_type__in=[
                        "target_customer_profiles",
                        "brand_guidelines",
                        "budgets",
                        "customer_profile_containers",
                    ]
                ),
                name="profile_version_history_type_valid",
            ),
        ]
        triggers = [
            # Append-only; only the actor link may be cleared (SET_NULL when a person is erased).
            pgtrigger.Protect(
                name="append_only",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange("profile_type", "profile_id", "version", "data", "created_at"),
            ),
            pgtrigger.Protect(name="no_delete", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.profile_type} {self.profile_id} v{self.version}"
