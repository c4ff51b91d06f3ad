"""Experiments: A/B tests, variants, participation, impressions, conversions, attribution.

Tables keep seed 002's names, columns, defaults and CHECK constraints. A participant is a
person (``user``) or, until they identify, an anonymous visitor id (``anonymous_id``):
exactly one of the two is set on every participation, impression, conversion and
attribution row, and the database allows one participation per participant and
experiment (two partial unique indexes).

Invariants the database enforces beyond the seed (``pgtrigger`` triggers declared below):

* a started experiment's variants cannot be added, removed, re-weighted, re-ordered or
  re-configured — only their description may change (trigger ``variants_frozen_unless_draft``);
* an experiment only leaves ``draft`` for ``running`` with at least two variants whose
  weights sum to 1 and exactly one control (trigger ``experiments_start_requirements``).

Both raise a ``check_violation`` naming the rule as its constraint, so a refusal reads like
one of a CHECK constraint.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Concat, Now
from django.utils import timezone

from experiments.stats import DEFAULT_SEQUENTIAL_TUNING
from focusedroom.ids import uuid7

SEQUENTIAL_TUNING_MIN = 100
PRE_EXPOSURE_WINDOW_MAX = 365
HOLDOUT_SHARE_MAX = Decimal("0.5")

EXACTLY_ONE_PARTICIPANT = (Q(user__isnull=False) & Q(anonymous_id="")) | (Q(user__isnull=True) & ~Q(anonymous_id=""))


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped"
    ARCHIVED = "archived", "Archived"


class DeviceType(models.TextChoices):
    """``focusedroom.context.DEVICE_TYPES``, as stored."""

    DESKTOP = "desktop", "Desktop"
    MOBILE = "mobile", "Mobile"
    TABLET = "tablet", "Tablet"
    BOT = "bot", "Bot"
    OTHER = "other", "Other"


class ConnectionType(models.TextChoices):
    WIFI = "wifi", "Wi-Fi"
    ETHERNET = "ethernet", "Ethernet"
    CELLULAR = "cellular", "Cellular"
    FOUR_G = "4g", "4G"
    THREE_G = "3g", "3G"
    TWO_G = "2g", "2G"
    SLOW_2G = "slow-2g", "Slow 2G"
    OFFLINE = "offline", "Offline"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


BIG_FIVE_DOMAINS = ("N", "E", "O", "A", "C")
TRAITS_SEPARATOR = "|"


def _trait_percentile(domain: str) -> models.GeneratedField:
    """A Big Five domain percentile measured before the first exposure (from ``pre_exposure_traits``)."""
    return models.GeneratedField(
        expression=Cast(KT(f"pre_exposure_traits__percentiles__{domain}"), models.FloatField()),
        output_field=models.FloatField(null=True),
        db_persist=True,
    )


def _brand():
    """The brand a history row belongs to — the distribution column of a sharded (Citus) deployment.

    Not indexed (nothing reads by it on one primary). A writer that does not name it gets the default
    brand in the same statement (the SQL function of accounts 0007), raw upserts and COPY included.
    """
    return models.ForeignKey(
        "accounts.Brand",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_default=models.Func(function="accounts_default_brand_id", output_field=models.BigIntegerField()),
    )


def _uuid_pk():
    return models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)


def _uuid7_pk():
    return models.UUIDField(primary_key=True, default=uuid7, editable=False)


class Experiment(models.Model):
    """An A/B test definition (seed 002 ``experiments``)."""

    id = _uuid_pk()
    name = models.TextField(unique=True)
    key = models.SlugField(
        max_length=100, unique=True, help_text="Used in URLs, templates and (unless a seed is set) as the hash seed."
    )
    seed = models.CharField(
        max_length=100, blank=True, default="", help_text="Hash seed; empty means the key is the seed."
    )
    description = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    is_active = models.BooleanField(null=True, default=True, db_default=True)
    updated_at = models.DateTimeField(null=True, auto_now=True, db_default=Now())
    target_sample_size = models.PositiveIntegerField(null=True, blank=True, help_text="Participants wanted in total.")
    confidence_level = models.DecimalField(
        max_digits=3, decimal_places=2, null=True, default=Decimal("0.95"), db_default=Decimal("0.95")
    )
    minimum_detectable_effect = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        default=Decimal("0.05"),
        db_default=Decimal("0.05"),
        help_text="Relative uplift the test should be able to detect (0.05 = +5 %).",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20,
        null=True,
        choices=ExperimentStatus.choices,
        default=ExperimentStatus.DRAFT,
        db_default=ExperimentStatus.DRAFT,
    )
    coverage = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        db_default=Decimal("1"),
        help_text="Share of traffic included (0–1); the rest sees the control and is not counted.",
    )
    eligibility_rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='Conditions on the participant, e.g. {"channel": 1, "device_type": {"$in": ["mobile"]}}.',
    )
    conversion_window_days = models.PositiveIntegerField(
        default=30, db_default=30, help_text="Conversions count when they happen this many days after first exposure."
    )
    sequential_testing = models.BooleanField(
        default=True,
        db_default=True,
        help_text="Always-valid p-values and intervals: results may be read at any time, every day. "
        "Off: a fixed-horizon test, only decidable once the planned sample is reached.",
    )
    sequential_tuning = models.PositiveIntegerField(
        default=DEFAULT_SEQUENTIAL_TUNING,
        db_default=DEFAULT_SEQUENTIAL_TUNING,
        help_text="Expected total sample size: sequential intervals are narrowest around it (default 5,000).",
    )
    regression_adjustment = models.BooleanField(
        default=True,
        db_default=True,
        help_text="CUPED: adjust each metric with the same metric before exposure and, for participants who took "
        "the Big Five test before their exposure, their five domain percentiles.",
    )
    pre_exposure_window_days = models.PositiveSmallIntegerField(
        default=14, db_default=14, help_text="Days before the first exposure that count as the pre-exposure period."
    )
    guardrail_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.05"),
        db_default=Decimal("0.05"),
        help_text="Relative harm to a guardrail metric (gems, unsubscribes, bounces) that flags a variant "
        "(0.05 = 5 % worse).",
    )

    class Meta:
        db_table = "experiments"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence_level__gte=Decimal("0.80"), confidence_level__lte=Decimal("0.99")),
                name="experiments_confidence_level_check",
            ),
            models.CheckConstraint(condition=Q(status__in=ExperimentStatus.values), name="experiments_status_enum"),
            models.CheckConstraint(condition=Q(coverage__gte=0, coverage__lte=1), name="experiments_coverage_0_1"),
            models.CheckConstraint(
                condition=Q(minimum_detectable_effect__isnull=True) | Q(minimum_detectable_effect__gt=0),
                name="experiments_mde_positive",
            ),
            models.CheckConstraint(condition=Q(conversion_window_days__gte=1), name="experiments_window_positive"),
            models.CheckConstraint(
                condition=Q(sequential_tuning__gte=SEQUENTIAL_TUNING_MIN), name="experiments_sequential_tuning_min"
            ),
            models.CheckConstraint(
                condition=Q(pre_exposure_window_days__gte=1, pre_exposure_window_days__lte=PRE_EXPOSURE_WINDOW_MAX),
                name="experiments_pre_exposure_window_range",
            ),
            models.CheckConstraint(
                condition=Q(guardrail_threshold__gt=0, guardrail_threshold__lte=1),
                name="experiments_guardrail_threshold_range",
            ),
            models.CheckConstraint(
                condition=Q(status=ExperimentStatus.DRAFT)
                | Q(status=ExperimentStatus.ARCHIVED, started_at__isnull=True)
                | Q(started_at__isnull=False),
                name="experiments_started_when_not_draft",
            ),
            models.CheckConstraint(
                condition=~Q(status=ExperimentStatus.STOPPED) | Q(ended_at__isnull=False),
                name="experiments_stopped_has_end",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(started_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="experiments_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["status"], name="experiments_status_idx")]
        triggers = [
            pgtrigger.Trigger(
                name="experiments_start_requirements",
                when=pgtrigger.Before,
                operation=pgtrigger.UpdateOf("status"),
                condition=pgtrigger.Q(old__status="draft", new__status="running"),
                declare=[("n", "integer"), ("total", "numeric"), ("controls", "integer")],
                func="""
                    SELECT count(*), coalesce(sum(weight), 0), count(*) FILTER (WHERE is_control)
                      INTO n, total, controls
                      FROM variants WHERE experiment_id = NEW.id;
                    IF n < 2 OR total <> 1 OR controls <> 1 THEN
                        RAISE EXCEPTION 'experiment % cannot start: % variants, weights sum to %, % controls',
                            NEW.id, n, total, controls
                            USING ERRCODE = 'check_violation', CONSTRAINT = 'experiments_start_requirements';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def hash_seed(self) -> str:
        return self.seed or self.key


class Variant(models.Model):
    """One arm of an experiment (seed 002 ``variants``) with its traffic weight."""

    id = _uuid_pk()
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.TextField()
    config_json = models.JSONField(null=True, blank=True, help_text='What the page shows, e.g. {"headline": "…"}.')
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    description = models.TextField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, auto_now=True, db_default=Now())
    weight = models.DecimalField(max_digits=5, decimal_places=4, help_text="Share of covered traffic (0–1).")
    is_control = models.BooleanField(default=False, db_default=False)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order of the variant in bucket ranges.")

    class Meta:
        db_table = "variants"
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "name"], name="variants_experiment_id_name_key"),
            models.UniqueConstraint(fields=["experiment", "position"], name="variants_experiment_position_key"),
            models.UniqueConstraint(
                fields=["experiment"], condition=Q(is_control=True), name="variants_one_control_per_experiment"
            ),
            models.CheckConstraint(condition=Q(weight__gte=0, weight__lte=1), name="variants_weight_0_1"),
            models.CheckConstraint(condition=~Q(name=""), name="variants_name_not_blank"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="variants_frozen_unless_draft",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("exp_status", "text"), ("exp_id", "uuid")],
                func="""
                    IF TG_OP = 'DELETE' THEN exp_id := OLD.experiment_id; ELSE exp_id := NEW.experiment_id; END IF;
                    SELECT status INTO exp_status FROM experiments WHERE id = exp_id;
                    IF NOT FOUND OR exp_status = 'draft' THEN
                        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                        RETURN NEW;
                    END IF;
                    IF TG_OP = 'UPDATE'
                       AND NEW.experiment_id = OLD.experiment_id
                       AND NEW.name = OLD.name
                       AND NEW.weight = OLD.weight
                       AND NEW.is_control = OLD.is_control
                       AND NEW.position = OLD.position
                       AND NEW.config_json IS NOT DISTINCT FROM OLD.config_json THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION 'variants of experiment % cannot change once it has started (status %)',
                        exp_id, exp_status
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'variants_frozen_unless_draft';
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Participation(models.Model):
    """A participant's assignment in one experiment (seed 002 ``user_experiment_participation``)."""

    id = _uuid7_pk()  # time-ordered: rows written together share index pages (focusedroom.ids)
    # No index of their own on user and experiment: the partial index on user (non-null rows only) and
    # the indexes that start with experiment serve every query and cascade; each index is paid on every exposure.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="participations", db_index=False)
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="participations")
    first_exposure_date = models.DateTimeField(default=timezone.now, db_default=Now())
    was_eligible_at_exposure = models.BooleanField(default=True, db_default=True)
    eligibility_criteria = models.JSONField(null=True, default=dict, db_default={})
    total_impressions = models.IntegerField(null=True, default=1, db_default=1)
    has_converted = models.BooleanField(null=True, default=False, db_default=False)
    first_conversion_date = models.DateTimeField(null=True, blank=True)
    conversion_within_window = models.BooleanField(null=True, default=False, db_default=False)
    created_at = models.DateTimeField(null=True, default=timezone.now, db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True, db_default=Now())
    has_multiple_exposures = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Exposed to several variants (identity merge); excluded from results.",
    )
    identity_merges = models.JSONField(default=list, db_default=[], blank=True)
    # What was known of the participant at the first exposure, for segments and regression adjustment:
    # coarse categories and the Big Five result taken *before* the exposure (never one taken after).
    device_type = models.CharField(
        max_length=20, null=True, blank=True, choices=DeviceType.choices, help_text="Device at the first exposure."
    )
    acquisition_channel = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The person's acquisition channel at the first exposure (empty: a visitor)."
    )
    pre_exposure_traits = models.JSONField(
        null=True,
        blank=True,
        help_text="Big Five domain percentiles, levels and norm group of the latest test taken before the first "
        "exposure (empty when none was).",
    )
    # Derived by the database from ``pre_exposure_traits`` (stored, never written): what the results group
    # by and adjust with, without reading JSON for every participation.
    traits_segment = models.GeneratedField(
        expression=Case(
            When(
                pre_exposure_traits__isnull=False,
                then=Concat(
                    KT("pre_exposure_traits__norm_group"),
                    *(
                        part
                        for d in BIG_FIVE_DOMAINS
                        for part in (Value(TRAITS_SEPARATOR), KT(f"pre_exposure_traits__levels__{d}"))
                    ),
                    output_field=models.TextField(),
                ),
            ),
            default=None,
            output_field=models.TextField(),
        ),
        output_field=models.TextField(null=True),
        db_persist=True,
    )
    trait_n = _trait_percentile("N")
    trait_e = _trait_percentile("E")
    trait_o = _trait_percentile("O")
    trait_a = _trait_percentile("A")
    trait_c = _trait_percentile("C")
    brand = _brand()

    class Meta:
        db_table = "user_experiment_participation"
        constraints = [
            models.CheckConstraint(condition=EXACTLY_ONE_PARTICIPANT, name="participation_exactly_one_participant"),
            models.UniqueConstraint(
                fields=["experiment", "user"], condition=Q(user__isnull=False), name="participation_user_unique"
            ),
            models.UniqueConstraint(
                fields=["experiment", "anonymous_id"],
                condition=Q(user__isnull=True),
                name="participation_anonymous_unique",
            ),
            models.CheckConstraint(
                condition=Q(first_conversion_date__isnull=True)
                | Q(first_conversion_date__gte=F("first_exposure_date")),
                name="participation_conversion_after_exposure",
            ),
            models.CheckConstraint(
                condition=Q(total_impressions__gte=0), name="participation_impressions_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(device_type__isnull=True) | Q(device_type__in=DeviceType.values),
                name="participation_device_type_enum",
            ),
            models.CheckConstraint(
                condition=Q(pre_exposure_traits__isnull=True) | Q(pre_exposure_traits__has_key="percentiles"),
                name="participation_traits_have_percentiles",
            ),
        ]
        indexes = [
            models.Index(fields=["experiment", "variant"], name="participation_exp_variant"),
            models.Index(fields=["anonymous_id"], condition=~Q(anonymous_id=""), name="participation_anonymous"),
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="participation_user"),
            models.Index(fields=["-first_exposure_date"], name="participation_exposed"),
            models.Index(fields=["experiment", "-first_exposure_date"], name="participation_exp_exposed"),
            # The participants with pre-exposure traits (regression adjustment): whether an experiment has
            # any, and the results' traits pass, read from the index alone (it holds every column the
            # pass reads, so the participations' pages are not visited one by one).
            models.Index(
                fields=["experiment"],
                include=[
                    "variant",
                    "id",
                    "was_eligible_at_exposure",
                    "has_multiple_exposures",
                    "trait_n",
                    "trait_e",
                    "trait_o",
                    "trait_a",
                    "trait_c",
                ],
                condition=Q(pre_exposure_traits__isnull=False),
                name="participation_traits",
            ),
        ]


class Impression(models.Model):
    """One exposure of a participant to a variant (seed 002 ``impressions``)."""

    id = _uuid7_pk()  # time-ordered: rows written together share index pages (focusedroom.ids)
    # No index of their own on user and experiment: the partial index on user (non-null rows only) and
    # the indexes that start with experiment serve every query and cascade; each index is paid on every exposure.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    session_identifier = models.TextField(null=True, blank=True)
    impression_at = models.DateTimeField(default=timezone.now, db_default=Now())
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="impressions", db_index=False)
    page_url = models.TextField(null=True, blank=True)
    user_agent = models.TextField(null=True, blank=True)
    country_code = models.CharField(max_length=2, null=True, blank=True)
    region = models.CharField(max_length=100, null=True, blank=True)
    city = models.CharField(max_length=100, null=True, blank=True)
    device_type = models.CharField(max_length=20, null=True, blank=True, choices=DeviceType.choices)
    screen_resolution = models.CharField(max_length=20, null=True, blank=True)
    viewport_size = models.CharField(max_length=20, null=True, blank=True)
    connection_type = models.CharField(max_length=20, null=True, blank=True, choices=ConnectionType.choices)
    language_code = models.CharField(max_length=10, null=True, blank=True)
    time_zone = models.CharField(max_length=50, null=True, blank=True)
    utm_source = models.CharField(max_length=100, null=True, blank=True)
    utm_medium = models.CharField(max_length=100, null=True, blank=True)
    utm_campaign = models.CharField(max_length=100, null=True, blank=True)
    time_on_page = models.IntegerField(null=True, blank=True)
    scroll_depth_percent = models.IntegerField(null=True, blank=True)
    page_load_time = models.IntegerField(null=True, blank=True)
    bounce = models.BooleanField(null=True, default=False, db_default=False)
    is_first_exposure = models.BooleanField(null=True, default=False, db_default=False)
    user_was_eligible = models.BooleanField(null=True, default=True, db_default=True)
    metadata = models.JSONField(null=True, default=dict, db_default={})
    user_eligibility_status = models.JSONField(null=True, default=dict, db_default={})
    user_context = models.JSONField(null=True, default=dict, db_default={})
    brand = _brand()

    class Meta:
        db_table = "impressions"
        constraints = [
            models.CheckConstraint(condition=EXACTLY_ONE_PARTICIPANT, name="impressions_exactly_one_participant"),
            models.CheckConstraint(
                condition=Q(scroll_depth_percent__isnull=True)
                | Q(scroll_depth_percent__gte=0, scroll_depth_percent__lte=100),
                name="impressions_scroll_depth_percent_check",
            ),
            models.CheckConstraint(
                condition=Q(device_type__isnull=True) | Q(device_type__in=DeviceType.values),
                name="impressions_device_type_enum",
            ),
            models.CheckConstraint(
                condition=Q(connection_type__isnull=True) | Q(connection_type__in=ConnectionType.values),
                name="impressions_connection_type_enum",
            ),
            models.CheckConstraint(
                condition=Q(time_on_page__isnull=True) | Q(time_on_page__gte=0),
                name="impressions_time_on_page_positive",
            ),
            models.CheckConstraint(
                condition=Q(page_load_time__isnull=True) | Q(page_load_time__gte=0),
                name="impressions_page_load_time_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["experiment", "variant"], name="impressions_exp_variant"),
            models.Index(fields=["anonymous_id"], condition=~Q(anonymous_id=""), name="impressions_anonymous"),
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="impressions_user"),
            models.Index(fields=["-impression_at"], name="impressions_time"),
            models.Index(fields=["experiment", "-impression_at"], name="impressions_exp_time"),
        ]


class Conversion(models.Model):
    """A conversion attributed to one experiment the participant was exposed to (seed 002 ``conversions``)."""

    id = _uuid_pk()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    participation = models.ForeignKey(Participation, on_delete=models.CASCADE, related_name="conversions")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="conversions")
    session_identifier = models.TextField(null=True, blank=True)
    conversion_type = models.TextField()
    details = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    country_code = models.CharField(max_length=2, null=True, blank=True)
    device_type = models.CharField(max_length=20, null=True, blank=True, choices=DeviceType.choices)
    referrer_source = models.CharField(max_length=200, null=True, blank=True)
    utm_source = models.CharField(max_length=100, null=True, blank=True)
    utm_medium = models.CharField(max_length=100, null=True, blank=True)
    utm_campaign = models.CharField(max_length=100, null=True, blank=True)
    conversion_value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    time_to_convert = models.IntegerField(null=True, blank=True, help_text="Seconds from first exposure.")
    metadata = models.JSONField(null=True, default=dict, db_default={})
    is_first_conversion_for_experiment = models.BooleanField(null=True, default=True, db_default=True)
    conversion_attribution_source = models.TextField(null=True, default="direct", db_default="direct")
    conversion_window_days = models.IntegerField(null=True, default=30, db_default=30)
    original_exposure_date = models.DateTimeField(null=True, blank=True)
    conversion_eligibility_verified = models.BooleanField(null=True, default=False, db_default=False)
    conversion_context = models.JSONField(null=True, default=dict, db_default={})
    conversion_within_window = models.BooleanField(default=False, db_default=False)
    idempotency_key = models.CharField(max_length=100, blank=True, default="", db_default="")
    brand = _brand()

    class Meta:
        db_table = "conversions"
        constraints = [
            models.CheckConstraint(condition=EXACTLY_ONE_PARTICIPANT, name="conversions_exactly_one_participant"),
            models.CheckConstraint(
                condition=Q(conversion_value__isnull=True) | Q(conversion_value__gte=0),
                name="conversions_conversion_value_check",
            ),
            models.CheckConstraint(
                condition=Q(device_type__isnull=True) | Q(device_type__in=DeviceType.values),
                name="conversions_device_type_enum",
            ),
            models.CheckConstraint(
                condition=Q(time_to_convert__isnull=True) | Q(time_to_convert__gte=0),
                name="conversions_time_to_convert_positive",
            ),
            models.UniqueConstraint(
                fields=["experiment", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="conversions_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["experiment", "conversion_type", "variant", "participation"],
                condition=Q(conversion_within_window=True, conversion_eligibility_verified=True),
                name="conversions_results",
            ),
            models.Index(fields=["participation"], name="conversions_participation"),
            models.Index(fields=["anonymous_id"], condition=~Q(anonymous_id=""), name="conversions_anonymous"),
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="conversions_user"),
            models.Index(fields=["-created_at"], name="conversions_time"),
            models.Index(fields=["experiment", "-created_at"], name="conversions_exp_time"),
            # The same metric before exposure: a type's conversions in a time range (regression adjustment).
            models.Index(fields=["conversion_type", "created_at"], name="conversions_type_time"),
        ]


class ConversionAttribution(models.Model):
    """How a conversion was credited to an experiment (seed 002 ``conversion_attribution``)."""

    id = _uuid_pk()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    conversion = models.OneToOneField(Conversion, on_delete=models.CASCADE, related_name="attribution")
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    attribution_method = models.TextField(default="first_exposure", db_default="first_exposure")
    attribution_confidence = models.DecimalField(
        max_digits=3, decimal_places=2, null=True, default=Decimal("1.00"), db_default=Decimal("1.00")
    )
    time_to_conversion_hours = models.IntegerField(null=True, blank=True)
    conversion_value_attributed = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    brand = _brand()

    class Meta:
        db_table = "conversion_attribution"
        constraints = [
            models.CheckConstraint(condition=EXACTLY_ONE_PARTICIPANT, name="attribution_exactly_one_participant"),
            models.CheckConstraint(
                condition=Q(attribution_confidence__gte=0, attribution_confidence__lte=1),
                name="conversion_attribution_attribution_confidence_check",
            ),
            models.CheckConstraint(
                condition=Q(time_to_conversion_hours__gte=0),
                name="conversion_attribution_time_to_conversion_hours_check",
            ),
        ]
        indexes = [
            models.Index(fields=["anonymous_id"], condition=~Q(anonymous_id=""), name="attribution_anonymous"),
            models.Index(fields=["experiment", "variant"], name="attribution_exp_variant"),
        ]


class ExperimentAuditLog(models.Model):
    """Who changed an experiment's lifecycle or definition, and when."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="audit_log")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["experiment", "-created_at"], name="experiments_audit_exp_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.experiment_id}"


def new_holdout_seed() -> str:
    return f"holdout-{uuid.uuid4().hex[:16]}"


class Holdout(models.Model):
    """A brand's holdout: a share of people kept out of every experiment (and of the reward campaigns
    flagged as holdout campaigns), so the cumulative effect of the programme can be measured.

    Membership is GrowthBook's hash v2 of ``seed + participant key`` below ``share``: stable, and
    raising the share only adds people. ``experiments.selectors.holdout_contains`` is the rule.
    """

    brand = models.OneToOneField("accounts.Brand", on_delete=models.CASCADE, related_name="+")
    share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        help_text="Share of people held out (0–0.5), e.g. 0.05 = 5 %.",
    )
    seed = models.CharField(
        max_length=100, default=new_holdout_seed, help_text="Hash seed; changing it draws a new holdout."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        db_table = "experiment_holdouts"
        constraints = [
            models.CheckConstraint(
                condition=Q(share__gte=0, share__lte=HOLDOUT_SHARE_MAX), name="experiment_holdouts_share_range"
            ),
            models.CheckConstraint(condition=~Q(seed=""), name="experiment_holdouts_seed_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{float(self.share) * 100:g} % held out"
