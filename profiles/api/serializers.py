"""Serializers: output shapes, and input shapes whose values the services validate."""

from __future__ import annotations

from rest_framework import serializers

from focusedroom.api.serializers import DocumentField, StrictSerializer
from profiles.models import (
    TRAIT_FIELDS,
    BrandGuidelines,
    Budget,
    BudgetAlertFiring,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
)
from profiles.schemas import SCHEMAS
from profiles.services import budget_pacing

# Seed 003's column names for the references the API names without ``_id``.
SEED_REFERENCE_ALIASES = {
    "customer_profile_id": "customer_profile",
    "brand_guidelines_id": "brand_guidelines",
    "budget_id": "budget",
    "container_id": "container",
}

AUDIT_FIELDS = ["version", "created_at", "updated_at", "created_by", "updated_by", "deleted_at"]


class ActorField(serializers.PrimaryKeyRelatedField):
    """The id of the person who created / last changed the record (no extra query)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


class VersionInputMixin(StrictSerializer):
    """``version`` in the body: the version an update is based on (or send ``If-Match``)."""

    version = serializers.IntegerField(required=False, write_only=True)


# --------------------------------------------------------------------- output shapes


class CustomerProfileSerializer(serializers.ModelSerializer):
    created_by = ActorField()
    updated_by = ActorField()

    class Meta:
        model = TargetCustomerProfile
        fields = [
            "id",
            "account_id",
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
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


class BrandGuidelinesSerializer(serializers.ModelSerializer):
    created_by = ActorField()
    updated_by = ActorField()

    class Meta:
        model = BrandGuidelines
        fields = [
            "id",
            "account_id",
            "brand_name",
            "detail_level",
            "high_level_guidelines",
            "full_style_guide",
            "industry",
            "brand_values",
            "is_default",
            "is_active",
            "metadata",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


class AlertFiringSerializer(serializers.ModelSerializer):
    class Meta:
        model = BudgetAlertFiring
        fields = ["threshold", "amount_spent", "percentage_spent", "fired_at"]
        read_only_fields = fields


class BudgetSerializer(serializers.ModelSerializer):
    created_by = ActorField()
    updated_by = ActorField()
    type = serializers.CharField(source="budget_type", read_only=True)
    amount_remaining = serializers.DecimalField(max_digits=15, decimal_places=2, read_only=True)
    percentage_spent = serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True)

    class Meta:
        model = Budget
        fields = [
            "id",
            "account_id",
            "name",
            "amount",
            "delivery_method",
            "period",
            "status",
            "type",
            "amount_spent",
            "amount_remaining",
            "percentage_spent",
            "is_shared",
            "campaign_ids",
            "alerts",
            "start_date",
            "end_date",
            "is_default",
            "metadata",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


class PacingSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    elapsed_fraction = serializers.FloatField()
    expected_spend = serializers.DecimalField(max_digits=15, decimal_places=2)
    actual_spend = serializers.DecimalField(max_digits=15, decimal_places=2)
    difference = serializers.DecimalField(max_digits=16, decimal_places=2)
    status = serializers.ChoiceField(choices=["not_started", "behind", "on_track", "ahead", "ended"])


class BudgetDetailSerializer(BudgetSerializer):
    """A budget with the thresholds that fired and its pacing."""

    alerts_fired = AlertFiringSerializer(source="alert_firings", many=True, read_only=True)
    pacing = serializers.SerializerMethodField()

    class Meta(BudgetSerializer.Meta):
        fields = [*BudgetSerializer.Meta.fields, "alerts_fired", "pacing"]
        read_only_fields = fields

    def get_pacing(self, budget) -> dict:
        return PacingSerializer(budget_pacing(budget=budget)).data


class ContainerSerializer(serializers.ModelSerializer):
    created_by = ActorField()
    updated_by = ActorField()
    is_complete = serializers.BooleanField(read_only=True)
    missing_profiles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ProfileContainer
        fields = [
            "id",
            "account_id",
            "name",
            "description",
            "customer_profile",
            "brand_guidelines",
            "budget",
            "is_default",
            "is_primary",
            "status",
            "is_complete",
            "missing_profiles",
            "metadata",
            *AUDIT_FIELDS,
        ]
        read_only_fields = fields


class ContainerDetailSerializer(ContainerSerializer):
    """Example 4: the container with its referenced records embedded."""

    customer_profile = CustomerProfileSerializer(read_only=True)
    brand_guidelines = BrandGuidelinesSerializer(read_only=True)
    budget = BudgetSerializer(read_only=True)


class UsageSerializer(serializers.ModelSerializer):
    created_by = ActorField()
    updated_by = ActorField()

    class Meta:
        model = CampaignProfileUsage
        fields = [
            "id",
            "campaign_id",
            "account_id",
            "usage_type",
            "container",
            "customer_profile",
            "brand_guidelines",
            "budget",
            "is_active",
            "metadata",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
        ]
        read_only_fields = fields


class VersionSerializer(serializers.ModelSerializer):
    created_by = ActorField()

    class Meta:
        model = ProfileVersion
        fields = ["version", "created_at", "created_by", "data"]
        read_only_fields = fields


# ---------------------------------------------------------------------- input shapes
#
# Input serializers only turn JSON into Python values (text, numbers, dates, ids, lists,
# documents). Every rule about the values — lengths, choices, ranges, JSON Schemas, the
# account, references — is checked once, by the service, whose field errors the API
# answers as a 400 with the same field names.


def _text(required: bool = False, **kwargs) -> serializers.CharField:
    """Text; ``required`` on create (a PATCH is partial)."""
    return serializers.CharField(required=required, allow_blank=True, **kwargs)


class ChoiceText(serializers.ChoiceField):
    """Text documented as one of ``choices`` (an enum in the API schema); the service checks it."""

    def to_internal_value(self, data):
        return str(data)


def _choice(choices, **kwargs) -> ChoiceText:
    return ChoiceText(choices=choices, required=False, **kwargs)


def _strings() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(allow_blank=True), required=False)


def _document(name: str, **kwargs) -> DocumentField:
    """A JSON document, documented with the JSON Schema the service validates it against."""
    return DocumentField(document_schema=SCHEMAS[name], required=False, **kwargs)


def _amount(required: bool = False, **kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=None, required=required, **kwargs)


def _percentile() -> serializers.IntegerField:
    """A percentile bound (the service checks 0–100 and min <= max)."""
    return serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)


class CustomerProfileInput(VersionInputMixin):
    account_id = _text(required=True)
    name = _text(required=True)
    description = _text()
    demographics = _document("demographics")
    interests = _strings()
    behavior = _document("behavior")
    persona = _document("persona")
    is_default = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    metadata = _document("metadata")
    # Big Five trait ranges: percentiles 0–100 of the customers' latest results, null for an open end.
    openness_min = _percentile()
    openness_max = _percentile()
    conscientiousness_min = _percentile()
    conscientiousness_max = _percentile()
    extraversion_min = _percentile()
    extraversion_max = _percentile()
    agreeableness_min = _percentile()
    agreeableness_max = _percentile()
    neuroticism_min = _percentile()
    neuroticism_max = _percentile()


class BrandGuidelinesInput(VersionInputMixin):
    account_id = _text(required=True)
    brand_name = _text(required=True)
    detail_level = _choice(BrandGuidelines.DetailLevel.choices)
    high_level_guidelines = _document("high_level_guidelines")
    full_style_guide = _document("full_style_guide", allow_null=True)
    industry = _text()
    brand_values = _strings()
    is_default = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    metadata = _document("metadata")


class BudgetInput(VersionInputMixin):
    account_id = _text(required=True)
    name = _text(required=True)
    amount = _amount(required=True)
    delivery_method = _choice(Budget.DeliveryMethod.choices)
    period = _choice(Budget.Period.choices)
    status = _choice(Budget.Status.choices)
    type = _choice(Budget.Type.choices, source="budget_type")
    is_shared = serializers.BooleanField(required=False)
    campaign_ids = _strings()
    alerts = _document("alerts")
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    is_default = serializers.BooleanField(required=False)
    metadata = _document("metadata")


class ContainerInput(VersionInputMixin):
    aliases = SEED_REFERENCE_ALIASES

    account_id = _text(required=True)
    name = _text(required=True)
    description = _text()
    customer_profile = serializers.UUIDField(required=False, allow_null=True)
    brand_guidelines = serializers.UUIDField(required=False, allow_null=True)
    budget = serializers.UUIDField(required=False, allow_null=True)
    is_default = serializers.BooleanField(required=False)
    is_primary = serializers.BooleanField(required=False)
    status = _choice(ProfileContainer.Status.choices)
    metadata = _document("metadata")


class UsageInput(StrictSerializer):
    aliases = SEED_REFERENCE_ALIASES

    campaign_id = _text(default="")
    account_id = _text(default="")
    usage_type = _choice(CampaignProfileUsage.UsageType.choices, default="")
    container = serializers.UUIDField(required=False, allow_null=True)
    customer_profile = serializers.UUIDField(required=False, allow_null=True)
    brand_guidelines = serializers.UUIDField(required=False, allow_null=True)
    budget = serializers.UUIDField(required=False, allow_null=True)
    metadata = _document("metadata")


class SpendInput(VersionInputMixin):
    amount_spent = _amount()
    add = _amount()


class SpendResultSerializer(serializers.Serializer):
    budget = BudgetDetailSerializer()
    alerts_fired = serializers.ListField(child=serializers.DecimalField(max_digits=7, decimal_places=2))


class RevertInput(VersionInputMixin):
    to_version = serializers.IntegerField()


class AccountStatusSerializer(serializers.Serializer):
    account_id = serializers.CharField()
    is_first_time_user = serializers.BooleanField()
    has_customer_profile = serializers.BooleanField()
    has_brand_guidelines = serializers.BooleanField()
    has_budget = serializers.BooleanField()
    profile_counts = serializers.DictField(child=serializers.IntegerField())


class AccountSummarySerializer(serializers.Serializer):
    account_id = serializers.CharField()
    total_profiles = serializers.IntegerField()
    total_guidelines = serializers.IntegerField()
    total_budgets = serializers.IntegerField()
    total_containers = serializers.IntegerField()
    complete_containers = serializers.IntegerField()
    total_active_budget = serializers.DecimalField(max_digits=17, decimal_places=2)
    total_active_spent = serializers.DecimalField(max_digits=17, decimal_places=2)
    total_campaign_usage = serializers.IntegerField()
