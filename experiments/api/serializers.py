"""API serializers: input shapes (the services validate) and output shapes."""

from __future__ import annotations

from rest_framework import serializers

from experiments.models import Experiment, Variant
from focusedroom.api.serializers import StrictSerializer


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


# Input serializers shape the request (which fields, of which type); every rule on the values
# (lengths, ranges, choices, formats) is the services' (``experiments.services``), checked once.


def _decimal() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=None, required=False)


class VariantInputSerializer(StrictSerializer):
    name = serializers.CharField(allow_blank=True)
    weight = serializers.DecimalField(max_digits=None, decimal_places=None)
    is_control = serializers.BooleanField(required=False, default=False)
    config_json = serializers.JSONField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class ExperimentInputSerializer(StrictSerializer):
    name = serializers.CharField(allow_blank=True)
    key = serializers.CharField(required=False, allow_blank=True)
    seed = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    target_sample_size = serializers.IntegerField(required=False, allow_null=True)
    confidence_level = _decimal()
    minimum_detectable_effect = _decimal()
    coverage = _decimal()
    eligibility_rules = serializers.JSONField(required=False)
    conversion_window_days = serializers.IntegerField(required=False)
    variants = VariantInputSerializer(many=True, required=False)


class ParticipantSerializer(StrictSerializer):
    user_id = serializers.IntegerField(required=False)
    anonymous_id = serializers.CharField(required=False)

    def validate(self, attrs):
        if "user_id" in attrs and "anonymous_id" in attrs:
            raise serializers.ValidationError("Give either user_id or anonymous_id, not both.")
        return attrs


class TrackingFieldsMixin(StrictSerializer):
    """What a client reports with an exposure or a conversion (``tracking`` for the services)."""

    session_identifier = serializers.CharField(required=False)
    country_code = serializers.CharField(required=False)
    device_type = serializers.CharField(required=False)
    utm_source = serializers.CharField(required=False)
    utm_medium = serializers.CharField(required=False)
    utm_campaign = serializers.CharField(required=False)
    metadata = serializers.DictField(required=False)


class ExposureInputSerializer(TrackingFieldsMixin):
    participant = ParticipantSerializer(required=False)
    page_url = serializers.CharField(required=False)
    user_agent = serializers.CharField(required=False)
    region = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    screen_resolution = serializers.CharField(required=False)
    viewport_size = serializers.CharField(required=False)
    connection_type = serializers.CharField(required=False)
    language_code = serializers.CharField(required=False)
    time_zone = serializers.CharField(required=False)
    time_on_page = serializers.IntegerField(required=False)
    scroll_depth_percent = serializers.IntegerField(required=False)
    page_load_time = serializers.IntegerField(required=False)
    bounce = serializers.BooleanField(required=False)


class AssignmentSerializer(serializers.Serializer):
    variant = serializers.CharField()
    config = serializers.JSONField()
    in_experiment = serializers.BooleanField()


class ConversionInputSerializer(TrackingFieldsMixin):
    participant = ParticipantSerializer(required=False)
    conversion_type = serializers.CharField(allow_blank=True)
    conversion_value = serializers.DecimalField(max_digits=None, decimal_places=None, required=False, allow_null=True)
    experiment_key = serializers.CharField(required=False)
    details = serializers.DictField(required=False)
    conversion_context = serializers.DictField(required=False)
    referrer_source = serializers.CharField(required=False)
    idempotency_key = serializers.CharField(required=False)
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
