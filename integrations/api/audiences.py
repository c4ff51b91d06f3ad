"""``GET /api/v1/customer-profiles/<id>/audience/``: a target customer profile's live audience.

Served by ``integrations`` (which computes audiences: profiles, Big Five results and the consent
rule meet here) under the profiles' URL. Staff holding ``integrations.read_audience`` (the
Marketing role) only. Reads only: nothing is written, not even a snapshot.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from focusedroom.errors import NotFound
from integrations import selectors
from profiles import selectors as profiles_selectors


class ReadAudience(permissions.BasePermission):
    """Active staff holding ``integrations.read_audience`` (Marketing)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("integrations.read_audience"))


class RangeSerializer(serializers.Serializer):
    min = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)


class CriteriaSerializer(serializers.Serializer):
    age_min = serializers.IntegerField(allow_null=True)
    age_max = serializers.IntegerField(allow_null=True)
    countries = serializers.ListField(child=serializers.CharField())
    sexes = serializers.ListField(child=serializers.CharField(), help_text="M/F, from the profile's gender.")
    traits = serializers.DictField(
        child=RangeSerializer(), help_text="Domain code (O, C, E, A, N) -> percentile range."
    )
    not_applied = serializers.ListField(
        child=serializers.CharField(), help_text="What the profile says that customers' records cannot tell."
    )


class GroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, required=False)
    label = serializers.CharField()
    count = serializers.IntegerField()


class BinSerializer(serializers.Serializer):
    label = serializers.CharField()
    start = serializers.IntegerField(source="from", help_text="First percentile of the bin.")
    count = serializers.IntegerField()


class TraitSerializer(serializers.Serializer):
    label = serializers.CharField()
    range = RangeSerializer()
    bins = BinSerializer(many=True)
    without_result = serializers.IntegerField(help_text="People in the audience without a Big Five result.")


class CompositionSerializer(serializers.Serializer):
    channel = GroupSerializer(many=True)
    career_stage = GroupSerializer(many=True)
    age_band = GroupSerializer(many=True)
    traits = serializers.DictField(child=TraitSerializer())
    sampled = serializers.BooleanField(
        help_text="A large audience's composition is measured on a page sample and scaled to its exact size."
    )
    sample_percent = serializers.FloatField(allow_null=True, help_text="The share of the view's pages sampled.")


class ChangeSerializer(serializers.Serializer):
    since = serializers.DateField()
    size_then = serializers.IntegerField()
    difference = serializers.IntegerField()


class SyncStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    key = serializers.CharField(help_text="The Customer.io attribute and Kit tag name.")
    to_customerio = serializers.BooleanField()
    to_kit = serializers.BooleanField()
    last_synced_at = serializers.DateTimeField(allow_null=True)
    last_entered = serializers.IntegerField()
    last_left = serializers.IntegerField()
    members_customerio = serializers.IntegerField()
    members_kit = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    failed_messages = serializers.IntegerField()


class AudienceSerializer(serializers.Serializer):
    profile_id = serializers.UUIDField()
    measured_at = serializers.DateTimeField()
    size = serializers.IntegerField(help_text="Consented customers matching the profile now.")
    criteria = CriteriaSerializer()
    composition = CompositionSerializer()
    change_since_last_week = ChangeSerializer(allow_null=True)
    sync = SyncStateSerializer()


class CustomerProfileAudienceView(APIView):
    """A profile's live audience: size, composition, change since last week and sync state."""

    permission_classes = [ReadAudience]

    @extend_schema(responses=AudienceSerializer, tags=["profiles"])
    def get(self, request, pk):
        profile = profiles_selectors.customer_profile_get(pk)
        if profile is None:
            raise NotFound("No target customer profile with this id.")
        return Response(AudienceSerializer(selectors.audience_report(profile=profile)).data)
