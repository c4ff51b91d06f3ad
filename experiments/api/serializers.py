"""API serializers: input shapes (the services validate) and output shapes."""

from __future__ import annotations

from rest_framework import serializers

from experiments.models import Experiment, Variant
from focusedroom.api.serializers import FieldsBuiltOnceMixin, StrictSerializer


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
            "sequential_testing",
            "sequential_tuning",
            "regression_adjustment",
            "pre_exposure_window_days",
            "guardrail_threshold",
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
    sequential_testing = serializers.BooleanField(required=False)
    sequential_tuning = serializers.IntegerField(required=False)
    regression_adjustment = serializers.BooleanField(required=False)
    pre_exposure_window_days = serializers.IntegerField(required=False)
    guardrail_threshold = _decimal()
    variants = VariantInputSerializer(many=True, required=False)


class ParticipantSerializer(StrictSerializer):
    user_id = serializers.IntegerField(required=False)
    anonymous_id = serializers.CharField(required=False)
    visitor_token = serializers.CharField(
        required=False, max_length=300, help_text="Proof of the anonymous id, from the answer of its first exposure."
    )

    def validate(self, attrs):
        if "user_id" in attrs and "anonymous_id" in attrs:
            raise serializers.ValidationError("Give either user_id or anonymous_id, not both.")
        return attrs


class TrackingFieldsMixin(FieldsBuiltOnceMixin, StrictSerializer):
    """What a client reports with an exposure or a conversion (``tracking`` for the services).
    Fields built once per class: both are read on every exposure and conversion."""

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
    visitor_token = serializers.CharField(
        required=False, help_text="Anonymous visitors: proof of their id, to send with later calls."
    )


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


# ------------------------------------------------------------------------- results
# The shape of ``GET /experiments/<key>/results/`` (``experiments.results.experiment_results``), for the
# OpenAPI document. Fractions are 0–1 (0.05 = 5 %); uplifts are relative to the control.


class CupedSerializer(serializers.Serializer):
    theta = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Coefficient per covariate: pre_exposure (the same metric in the pre-exposure window), "
        "took_big_five, trait_N … trait_C (domain percentile − 50, over 100).",
    )
    covariates = serializers.ListField(child=serializers.CharField())
    variance_reduction = serializers.FloatField(help_text="1 − adjusted variance / unadjusted variance.")
    interval_narrower = serializers.FloatField(help_text="1 − adjusted interval width / unadjusted width.")


class EstimateSerializer(serializers.Serializer):
    uplift = serializers.FloatField()
    ci = serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
    p_value = serializers.FloatField()


class MetricVariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    is_control = serializers.BooleanField()
    participants = serializers.IntegerField()
    converters = serializers.IntegerField()
    conversion_rate = serializers.FloatField()
    value_mean = serializers.FloatField()
    method = serializers.ChoiceField(
        choices=["sequential", "fixed_horizon"], required=False, help_text="Challengers only."
    )
    uplift = serializers.FloatField(required=False)
    ci = serializers.ListField(child=serializers.FloatField(), required=False, help_text="Of the method in force.")
    p_value = serializers.FloatField(required=False)
    p_value_holm = serializers.FloatField(required=False)
    significant = serializers.BooleanField(
        required=False,
        help_text="Only when the method allows acting: sequential, or fixed horizon at the planned sample.",
    )
    decision = serializers.ChoiceField(choices=["ship", "keep_control", "keep_running"], required=False)
    reason = serializers.CharField(required=False)
    verdict = serializers.CharField(required=False, help_text="The decision and why, in one sentence.")
    cuped = CupedSerializer(required=False, allow_null=True, help_text="Present when regression-adjusted.")
    unadjusted = EstimateSerializer(required=False, allow_null=True)
    chance_to_win = serializers.FloatField(required=False)
    risk_control = serializers.FloatField(required=False)
    risk_variant = serializers.FloatField(required=False)
    credible_interval = serializers.ListField(child=serializers.FloatField(), required=False)
    value_uplift = serializers.FloatField(required=False)
    value_ci = serializers.ListField(child=serializers.FloatField(), required=False)
    value_p_value = serializers.FloatField(required=False)
    value_cuped = CupedSerializer(required=False, allow_null=True)
    error = serializers.CharField(required=False, allow_null=True)


class SegmentComparisonSerializer(serializers.Serializer):
    name = serializers.CharField()
    enough_data = serializers.BooleanField()
    uplift = serializers.FloatField(required=False)
    ci = serializers.ListField(child=serializers.FloatField(), required=False)
    p_value = serializers.FloatField(required=False)
    q_value = serializers.FloatField(required=False, help_text="Benjamini–Hochberg across the metric's segments.")
    significant = serializers.BooleanField(required=False)


class SegmentVariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    participants = serializers.IntegerField()
    converters = serializers.IntegerField()
    conversion_rate = serializers.FloatField()


class SegmentSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    variants = SegmentVariantSerializer(many=True)
    comparisons = SegmentComparisonSerializer(many=True)


class SegmentDimensionSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(
        choices=["device", "channel", "norm_group", "level_N", "level_E", "level_O", "level_A", "level_C"]
    )
    label = serializers.CharField()
    segments = SegmentSerializer(many=True)


class SegmentsSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="Segment findings are hypotheses.")
    correction = serializers.CharField()
    min_participants_per_variant = serializers.IntegerField()
    comparisons = serializers.IntegerField()
    findings = serializers.IntegerField()
    dimensions = SegmentDimensionSerializer(many=True)


class PlannedSampleSerializer(serializers.Serializer):
    participants = serializers.IntegerField(allow_null=True)
    source = serializers.ChoiceField(choices=["target_sample_size", "power"], allow_null=True)
    reached = serializers.BooleanField()


class MetricResultSerializer(serializers.Serializer):
    conversion_type = serializers.CharField()
    method = serializers.ChoiceField(choices=["sequential", "fixed_horizon"])
    variants = MetricVariantSerializer(many=True)
    planned_sample = PlannedSampleSerializer()
    power = serializers.DictField()
    segments = SegmentsSerializer()


class GuardrailVariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    is_control = serializers.BooleanField()
    participants = serializers.IntegerField()
    mean = serializers.FloatField(help_text="Per participant (a share for proportions).")
    method = serializers.CharField(required=False)
    uplift = serializers.FloatField(required=False)
    ci = serializers.ListField(child=serializers.FloatField(), required=False)
    p_value = serializers.FloatField(required=False)
    status = serializers.ChoiceField(choices=["ok", "watch", "harm", "no_data"], required=False)
    message = serializers.CharField(required=False)


class GuardrailSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="gems_earned, gems_redeemed, unsubscribes, email_bounces, …")
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["mean", "proportion"])
    harm = serializers.ChoiceField(choices=["decrease", "increase"])
    unit = serializers.CharField()
    threshold = serializers.FloatField()
    variants = GuardrailVariantSerializer(many=True)


class ResultsSerializer(serializers.Serializer):
    experiment = serializers.DictField()
    method = serializers.ChoiceField(choices=["sequential", "fixed_horizon"])
    method_description = serializers.CharField()
    variants = serializers.ListField(child=serializers.DictField())
    participants = serializers.IntegerField()
    multiple_exposure_participants = serializers.IntegerField()
    multiple_exposure_share = serializers.FloatField()
    multiple_exposures = serializers.DictField(help_text="participants, share, shown (from 0.5 %), causes.")
    srm = serializers.DictField()
    progress = serializers.DictField()
    metrics = MetricResultSerializer(many=True)
    guardrails = GuardrailSerializer(many=True)
    warnings = serializers.ListField(child=serializers.DictField())
