"""``/api/v1/events/``: post events (members for themselves, trusted clients for anyone); staff list."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from engagement.event_log import EVENT_SCHEMA, MAX_BATCH, events_ingest
from engagement.models import Event
from focusedroom.api.pagination import CursorPagination
from focusedroom.api.permissions import StaffModelPermissions
from focusedroom.context import RequestContext


class EventSerializer(serializers.ModelSerializer):
    brand = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    product = serializers.IntegerField(source="product_id", read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "created_at",
            "event_type",
            "user",
            "anonymous_id",
            "brand",
            "metadata",
            "experiment_context",
            "variant_context",
            "page_url",
            "product",
            "points_awarded",
            "ip_address",
            "user_agent",
            "device_type",
            "session_identifier",
        ]


class EventsCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField())


# The request as the event log validates it (``engagement.event_log.EVENT_SCHEMA``): one event or a batch.
_EVENT = {
    **EVENT_SCHEMA,
    "properties": {**EVENT_SCHEMA["properties"], "created_at": {"type": "string", "format": "date-time"}},
}
EVENTS_REQUEST = {"oneOf": [_EVENT, {"type": "array", "items": _EVENT, "minItems": 1, "maxItems": MAX_BATCH}]}


class EventListCreateView(ListAPIView):
    """GET: the event log for staff (``engagement.view_event``), newest first, cursor-paginated,
    filters ``user``, ``event_type``, ``anonymous_id``.

    POST: one event (a JSON object) or a batch (a JSON array of up to 500), validated as a
    whole. Members post their own events; API clients authenticated by token whose user
    holds ``engagement.add_event`` post for anyone.
    """

    queryset = Event.objects.select_related("brand").order_by("-created_at", "-id")
    serializer_class = EventSerializer
    pagination_class = CursorPagination
    filterset_fields = ["user", "event_type", "anonymous_id"]
    ordering_fields: list[str] = []

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated()]
        return [StaffModelPermissions()]

    @extend_schema(
        request={"application/json": EVENTS_REQUEST},
        responses={201: EventsCreatedSerializer},
        examples=[
            OpenApiExample(
                "A batch",
                value=[
                    {"event_type": "page_viewed", "page_url": "https://focusedroom.example/report"},
                    {"event_type": "cta_clicked", "metadata": {"cta": "ebook"}},
                ],
                request_only=True,
            )
        ],
    )
    def post(self, request, *args, **kwargs):
        # A trusted client: an API token (not a browser session) of someone allowed to add events.
        trusted = request.auth is not None and request.user.has_perm("engagement.add_event")
        ids = events_ingest(
            payload=request.data,
            actor=request.user,
            may_post_for_anyone=trusted,
            context=RequestContext.from_request(request, source="api"),
        )
        return Response({"created": len(ids), "ids": ids}, status=status.HTTP_201_CREATED)
