"""API serializers: thin input validation (services validate again) and output shapes."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from experiments.models import ConnectionType, DeviceType, Experiment, Variant


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ["id", "name", "weight", "is_control", "config_json", "description", "position"]
        read_only_fields = fields


class ExperimentSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "key",
            "name",
            "seed",
            "description",
            "status",
            "is_active",
            "coverage",
            "eligibility_rules",
            "conversion_window_days",
            "target_sample_size",
            "confidence_level",
            "minimum_detectable_effect",
            "started_at",
            "ended_at",
            "created_at",
            "updated_at",
            "variants",
        ]
        read_only_fields = fields


class VariantInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    weight = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=Decimal(0), max_value=Decimal(1))
    is_control = serializers.BooleanField(required=False, default=False)
    config_json = serializers.JSONField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=2000)


class ExperimentInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    key = serializers.CharField(max_length=100, required=False, allow_blank=True)
    seed = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=10_000)
    target_sample_size = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    confidence_level = serializers.DecimalField(
        max_digits=3, decimal_places=2, required=False, min_value=Decimal("0.80"), max_value=Decimal("0.99")
    )
    minimum_detectable_effect = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, min_value=Decimal("0.0001")
    )
    coverage = serializers.DecimalField(
        max_digits=5, decimal_places=4, required=False, min_value=Decimal(0), max_value=Decimal(1)
    )
    eligibility_rules = serializers.JSONField(required=False)
    conversion_window_days = serializers.IntegerField(required=False, min_value=1, max_value=3650)
    variants = VariantInputSerializer(many=True, required=False)


class ParticipantSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(required=False, min_value=1)
    anonymous_id = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        if "user_id" in attrs and "anonymous_id" in attrs:
            raise serializers.ValidationError("Give either user_id or anonymous_id, not both.")
        return attrs


class ContextFieldsMixin(serializers.Serializer):
    session_identifier = serializers.CharField(required=False, max_length=200)
    country_code = serializers.RegexField(r"^[A-Za-z]{2}$", required=False, max_length=2)
    device_type = serializers.ChoiceField(choices=DeviceType.choices, required=False)
    utm_source = serializers.CharField(required=False, max_length=100)
    utm_medium = serializers.CharField(required=False, max_length=100)
    utm_campaign = serializers.CharField(required=False, max_length=100)
    metadata = serializers.DictField(required=False)


class ExposureInputSerializer(ContextFieldsMixin):
    participant = ParticipantSerializer(required=False)
    page_url = serializers.CharField(required=False, max_length=2000)
    user_agent = serializers.CharField(required=False, max_length=1000)
    region = serializers.CharField(required=False, max_length=100)
    city = serializers.CharField(required=False, max_length=100)
    screen_resolution = serializers.CharField(required=False, max_length=20)
    viewport_size = serializers.CharField(required=False, max_length=20)
    connection_type = serializers.ChoiceField(choices=ConnectionType.choices, required=False)
    language_code = serializers.CharField(required=False, max_length=10)
    time_zone = serializers.CharField(required=False, max_length=50)
    time_on_page = serializers.IntegerField(required=False, min_value=0, max_value=2_000_000_000)
    scroll_depth_percent = serializers.IntegerField(required=False, min_value=0, max_value=100)
    page_load_time = serializers.IntegerField(required=False, min_value=0, max_value=2_000_000_000)
    bounce = serializers.BooleanField(required=False)


class AssignmentSerializer(serializers.Serializer):
    variant = serializers.CharField()
    config = serializers.JSONField()
    in_experiment = serializers.BooleanField()


class ConversionInputSerializer(ContextFieldsMixin):
    participant = ParticipantSerializer(required=False)
    conversion_type = serializers.CharField(max_length=100)
    conversion_value = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True, min_value=Decimal(0)
    )
    experiment_key = serializers.CharField(required=False, max_length=100)
    details = serializers.DictField(required=False)
    conversion_context = serializers.DictField(required=False)
    referrer_source = serializers.CharField(required=False, max_length=200)
    idempotency_key = serializers.CharField(required=False, max_length=100)
    occurred_at = serializers.DateTimeField(required=False)


class ConversionOutcomeSerializer(serializers.Serializer):
    experiment = serializers.CharField()
    variant = serializers.CharField()
    conversion_id = serializers.CharField()
    within_window = serializers.BooleanField()
    is_first_conversion = serializers.BooleanField()
    duplicate = serializers.BooleanField()


class ConversionResultSerializer(serializers.Serializer):
    conversions = ConversionOutcomeSerializer(many=True)


class ActiveVariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    weight = serializers.FloatField()
    is_control = serializers.BooleanField()
    config = serializers.JSONField()


class ActiveExperimentSerializer(serializers.Serializer):
    key = serializers.CharField()
    seed = serializers.CharField()
    hash_version = serializers.IntegerField()
    coverage = serializers.FloatField()
    eligibility_rules = serializers.JSONField()
    variants = ActiveVariantSerializer(many=True)
