from django.urls import reverse
from rest_framework import serializers

from accounts.selectors import CareerStage
from accounts.services import career_stage_value
from engagement.bigfive.inventory import INVENTORY_ID, INVENTORY_NAME, INVENTORY_VERSION, ITEMS, SCALE, facet_name
from engagement.models import BlogEngagement, BlogEngagementType, QuizResult, Sex
from engagement.services import compare_link_invite_path
from focusedroom.api.serializers import FieldsBuiltOnceMixin, NormalizedChoiceField, StrictSerializer


class InventoryItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    num = serializers.IntegerField()
    text = serializers.CharField()
    domain = serializers.CharField()
    facet = serializers.IntegerField()
    facet_name = serializers.CharField()


class InventorySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    scale = serializers.ListField(child=serializers.DictField())
    items = InventoryItemSerializer(many=True)


def inventory_payload() -> dict:
    """The items without their key: clients never reverse items themselves."""
    return {
        "id": INVENTORY_ID,
        "name": INVENTORY_NAME,
        "version": INVENTORY_VERSION,
        "scale": [{"value": v, "label": label} for v, label in SCALE],
        "items": [
            {
                "id": i.id,
                "num": i.num,
                "text": i.text,
                "domain": i.domain,
                "facet": i.facet,
                "facet_name": facet_name(i.facet_code),
            }
            for i in ITEMS
        ],
    }


class BigFiveSubmitSerializer(FieldsBuiltOnceMixin, StrictSerializer):
    """Shapes only; the submit service validates the values (one set of rules for page and API)."""

    answers = serializers.JSONField(help_text='{"<item id>": 1-5, …} for all 120 items of the inventory.')
    email = serializers.CharField(required=False, allow_blank=True, max_length=320)
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    age = serializers.IntegerField(required=False, allow_null=True, help_text="13–120.")
    profession = serializers.CharField(required=False, allow_blank=True, max_length=255)
    career_stage = NormalizedChoiceField(
        choices=CareerStage.choices, required=False, allow_blank=True, normalize=career_stage_value
    )
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True, help_text="For norms.")
    opt_in = serializers.BooleanField(required=False, default=False, help_text="Marketing email consent.")
    session_identifier = serializers.CharField(required=False, allow_blank=True, max_length=64)
    utm_source = serializers.CharField(required=False, allow_blank=True, max_length=100)
    utm_medium = serializers.CharField(required=False, allow_blank=True, max_length=100)
    utm_campaign = serializers.CharField(required=False, allow_blank=True, max_length=100)
    referrer = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    experiment_data = serializers.JSONField(required=False, allow_null=True)

    def service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        tracking = {k: data.pop(k, "") for k in ("utm_source", "utm_medium", "utm_campaign", "referrer")}
        return {**data, "tracking": tracking}


class BigFiveResultSerializer(FieldsBuiltOnceMixin, serializers.ModelSerializer):
    """A result as anyone holding its link sees it: its own scores only (no person, no number, no gems),
    the same shape whoever the email given belongs to. Without a context (the submission's answer and
    ``GET /api/v1/assessments/big-five/<id>/``: ``engagement.api.views``), its fields are built once per
    class and ``url`` is the path; with a request in the context, the absolute URL."""

    id = serializers.CharField(source="public_id", read_only=True, help_text="Public id (use it in URLs).")
    url = serializers.SerializerMethodField()
    insights = serializers.SerializerMethodField()

    class Meta:
        model = QuizResult
        fields = [
            "id",
            "quiz_type",
            "quiz_version",
            "result_type",
            "norm_group",
            "scores",
            "suggestions",
            "insights",
            "created_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        path = reverse("bigfive-result", args=[obj.public_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_insights(self, obj) -> dict:
        return (obj.result_details or {}).get("insights") or {}


class OwnBigFiveResultSerializer(BigFiveResultSerializer):
    """A result as the logged-in person it belongs to sees it: with its number in their history
    and the gems it earned."""

    class Meta(BigFiveResultSerializer.Meta):
        fields = [*BigFiveResultSerializer.Meta.fields, "report_id", "earned_gems"]
        read_only_fields = fields


class StaffQuizResultSerializer(BigFiveResultSerializer):
    customer_email = serializers.CharField(source="customer.email", read_only=True, default=None)
    channel = serializers.IntegerField(source="customer.channel_id", read_only=True, default=None)

    class Meta(BigFiveResultSerializer.Meta):
        fields = [
            *BigFiveResultSerializer.Meta.fields,
            "report_id",
            "customer_id",
            "earned_gems",
            "customer_email",
            "channel",
            "sex",
            "age",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "device_type",
        ]
        read_only_fields = fields


class BlogEngagementInputSerializer(StrictSerializer):
    post_slug = serializers.CharField(max_length=255)
    engagement_type = serializers.ChoiceField(choices=BlogEngagementType.choices)
    feedback_text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=BlogEngagement.FEEDBACK_MAX_LENGTH,
        help_text="Only with helpful_no.",
    )


class BlogEngagementSerializer(serializers.ModelSerializer):
    created = serializers.SerializerMethodField(help_text="False when the visitor had already done this.")

    class Meta:
        model = BlogEngagement
        fields = ["id", "post_slug", "engagement_type", "feedback_text", "created_at", "created"]
        read_only_fields = fields

    def get_created(self, obj) -> bool:
        return bool(self.context.get("created"))


class BlogEngagementSummarySerializer(serializers.Serializer):
    post_slug = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField())
    total = serializers.IntegerField()
    mine = serializers.ListField(child=serializers.CharField(), help_text="Types this visitor already recorded.")


class NormGroupSerializer(serializers.Serializer):
    id = serializers.CharField()
    label = serializers.CharField()
    derived = serializers.BooleanField(help_text="True for a combined norm (sex or age not given).")


class DomainChangeSerializer(serializers.Serializer):
    points = serializers.IntegerField(help_text="Percentile points since the report before.")
    reliable = serializers.BooleanField(help_text="Larger than measurement error (reliable change index, 95 %).")
    direction = serializers.CharField(help_text="higher or lower for a reliable change, else empty.")


class MyReportSerializer(serializers.Serializer):
    """One report of the member, as listed in "My reports"."""

    id = serializers.CharField(source="public_id", help_text="Public id (use it in URLs).")
    report_id = serializers.IntegerField(help_text="The member's test number (1, 2, 3 …).")
    created_at = serializers.DateTimeField()
    norm_group = NormGroupSerializer()
    percentiles = serializers.DictField(child=serializers.IntegerField(), help_text="O, C, E, A, N: 1–99.")
    levels = serializers.DictField(child=serializers.CharField(), help_text="O, C, E, A, N: low, average, high.")
    previous_report_id = serializers.IntegerField(allow_null=True)
    changes = serializers.DictField(
        child=DomainChangeSerializer(), help_text="Per domain, since the report before (empty for the first)."
    )
    url = serializers.SerializerMethodField()

    def get_url(self, row) -> str:
        path = reverse("bigfive-result", args=[row["public_id"]])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ComparePersonSerializer(serializers.Serializer):
    name = serializers.CharField()
    percentile = serializers.IntegerField()
    level = serializers.CharField()


class CompareRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    people = ComparePersonSerializer(many=True, help_text="You first, then the other person.")
    similar = serializers.BooleanField(help_text="False when the gap is larger than measurement error.")
    note = serializers.CharField()


class CompareLinkSerializer(serializers.Serializer):
    """A compare link as one of its two people sees it."""

    id = serializers.CharField(source="link.public_id")
    role = serializers.SerializerMethodField(help_text="owner (you made it) or guest (you joined it).")
    status = serializers.SerializerMethodField(help_text="waiting, compared or revoked.")
    report_id = serializers.SerializerMethodField(help_text="Your report in the comparison.")
    other_name = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="link.created_at")
    joined_at = serializers.DateTimeField(source="link.joined_at", allow_null=True)
    revoked_at = serializers.DateTimeField(source="link.revoked_at", allow_null=True)
    invite_url = serializers.SerializerMethodField(help_text="The link to send (its owner, while nobody joined).")
    comparison = CompareRowSerializer(source="rows", many=True, help_text="Empty until someone joins.")

    def get_role(self, view) -> str:
        return "owner" if view["viewer_is_owner"] else "guest"

    def get_status(self, view) -> str:
        link = view["link"]
        if link.revoked_at is not None:
            return "revoked"
        return "compared" if link.guest_id else "waiting"

    def get_report_id(self, view) -> int | None:
        return view["mine"].report_id if view["mine"] is not None else None

    def get_other_name(self, view) -> str:
        return view["other_name"] if view["other"] is not None else ""

    def get_invite_url(self, view) -> str | None:
        link = view["link"]
        if not (view["viewer_is_owner"] and link.is_open):
            return None
        request = self.context.get("request")
        path = compare_link_invite_path(link)
        return request.build_absolute_uri(path) if request is not None else path


class CompareLinkCreateSerializer(StrictSerializer):
    report = serializers.CharField(max_length=32, help_text="Public id of one of your reports.")


class CompareLinkJoinSerializer(StrictSerializer):
    link = serializers.CharField(max_length=32, help_text="The compare link's id (from its URL).")
    signature = serializers.CharField(max_length=64, help_text="The signature that follows the id in its URL.")
    report = serializers.CharField(
        max_length=32, required=False, help_text="Public id of the report to share (your latest by default)."
    )
