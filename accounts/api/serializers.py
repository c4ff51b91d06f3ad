import zoneinfo

from rest_framework import serializers

from accounts.models import Brand, CareerStage, Channel, User
from accounts.services import career_stage_value
from focusedroom.api.serializers import (
    FieldsBuiltOnceMixin,
    NormalizedChoiceField,
    StrictModelSerializer,
    StrictSerializer,
)


class CredentialsSerializer(StrictSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`. Shown once.")


class RegisterSerializer(CredentialsSerializer):
    referral_code = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class RegisterResultSerializer(serializers.Serializer):
    email = serializers.EmailField()
    detail = serializers.CharField(help_text="The same answer for every address: check the inbox for a link.")


class EmailChangeSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, help_text="The new address; a link is sent to it.")


class PersonSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A person as the API shows them (``GET /api/v1/me/`` on every app start: fields built once)."""

    channel = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "first_name",
            "last_name",
            "phone_number",
            "age",
            "profession",
            "career_stage",
            "purpose",
            "channel",
            "country_code",
            "time_zone",
            "marketing_opt_in",
            "is_email_verified",
            "email_verified_at",
            "is_staff",
            "created_at",
        ]
        read_only_fields = fields


class ProfileUpdateSerializer(StrictSerializer):
    """Fields a person may change about themselves; the service validates values."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    age = serializers.IntegerField(required=False, allow_null=True, min_value=13, max_value=120)
    profession = serializers.CharField(required=False, allow_blank=True, max_length=255)
    career_stage = NormalizedChoiceField(
        choices=CareerStage.choices, required=False, allow_blank=True, normalize=career_stage_value
    )
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    country_code = serializers.CharField(required=False, allow_blank=True, max_length=2)
    time_zone = serializers.CharField(required=False, max_length=63)
    marketing_opt_in = serializers.BooleanField(required=False)

    def validate_time_zone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError("Unknown time zone; use an IANA name such as Europe/Paris.")
        return value


class CustomerSerializer(PersonSerializer):
    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "kit_state", "updated_at"]
        read_only_fields = fields


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "name", "description"]


class BrandSerializer(StrictModelSerializer):
    customer_io_api_key = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=255, help_text="Write-only; stored encrypted."
    )
    has_customer_io_credentials = serializers.BooleanField(read_only=True)

    class Meta:
        model = Brand
        fields = [
            "id",
            "name",
            "slug",
            "customer_io_site_id",
            "customer_io_api_key",
            "has_customer_io_credentials",
            "settings",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class VerificationRequestSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class CustomFieldAnswerSerializer(serializers.Serializer):
    key = serializers.CharField(source="field.field_key")
    label = serializers.CharField(source="field.field_label")
    type = serializers.CharField(source="field.field_type")
    options = serializers.ListField(child=serializers.CharField(), source="field.field_options", allow_null=True)
    required = serializers.BooleanField(source="field.is_required")
    value = serializers.JSONField(
        allow_null=True, help_text="A boolean for checkboxes, a string otherwise, null when unanswered."
    )


class CustomFieldsSerializer(serializers.Serializer):
    brand = serializers.CharField()
    fields = CustomFieldAnswerSerializer(many=True)
