from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from engagement import selectors, services
from engagement.api.filters import QuizResultFilter
from engagement.api.serializers import (
    BigFiveResultSerializer,
    BigFiveSubmitSerializer,
    BlogEngagementInputSerializer,
    BlogEngagementSerializer,
    BlogEngagementSummarySerializer,
    InventorySerializer,
    OwnBigFiveResultSerializer,
    StaffQuizResultSerializer,
    inventory_payload,
)
from focusedroom.api.pagination import CursorPagination
from focusedroom.api.permissions import StaffModelPermissions
from focusedroom.context import RequestContext


class BigFiveInventoryView(APIView):
    """The IPIP-NEO-120 items (id, number, text, domain, facet) — never the scoring key."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=InventorySerializer, auth=[])
    def get(self, request):
        return Response(inventory_payload())


def _result_body(request, result) -> dict:
    """The owner (logged in) gets the report number and gems; anyone else the scores only."""
    own = selectors.quiz_result_is_owner(result=result, user=request.user)
    serializer = OwnBigFiveResultSerializer if own else BigFiveResultSerializer
    return serializer(result, context={"request": request}).data


class BigFiveSubmitView(APIView):
    """Submit a Big Five test (anonymous access allowed, throttled). 201 with the scored result.

    Logged in (session or token), the test joins your history at once and the answer carries its
    ``report_id`` and ``earned_gems``. Without logging in, the answer is the scores only, the same
    whatever the email: with the address of an account, the report waits for its owner to add it
    from an emailed link.
    """

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=BigFiveSubmitSerializer,
        responses={
            201: PolymorphicProxySerializer(
                "BigFiveSubmitted", [OwnBigFiveResultSerializer, BigFiveResultSerializer], None
            )
        },
    )
    def post(self, request):
        data = BigFiveSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cleaned = services.bigfive_clean(**data.service_kwargs())
        result = services.bigfive_submit(
            data=cleaned, context=RequestContext.from_request(request, source="api", issue_visitor_id=True)
        )
        return Response(_result_body(request, result), status=status.HTTP_201_CREATED)


class BigFiveResultView(APIView):
    """A result by its public id (the unguessable id of its report URL); its owner sees its number."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        responses=PolymorphicProxySerializer(
            "BigFiveResultAsSeen", [OwnBigFiveResultSerializer, BigFiveResultSerializer], None
        )
    )
    def get(self, request, public_id: str):
        result = selectors.quiz_result_get(public_id=public_id)
        if result is None:
            raise Http404
        return Response(_result_body(request, result))


class QuizResultViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff: quiz results, newest first; filter by quiz type, channel, career stage, opt-in, date, customer."""

    queryset = selectors.quiz_results_for_staff()
    serializer_class = StaffQuizResultSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = QuizResultFilter
    pagination_class = CursorPagination
    ordering = ("-created_at", "-id")
    ordering_fields = ["created_at"]
    lookup_field = "public_id"


class BlogEngagementView(APIView):
    """Record a like or a helpful vote: 201 when new, 200 with the existing record on a repeat."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=BlogEngagementInputSerializer,
        responses={201: BlogEngagementSerializer, 200: BlogEngagementSerializer},
        auth=[],
    )
    def post(self, request):
        data = BlogEngagementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record, created = services.blog_engagement_record(
            **data.validated_data, context=RequestContext.from_request(request, source="api")
        )
        body = BlogEngagementSerializer(record, context={"created": created}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BlogEngagementSummaryView(APIView):
    """Counts per engagement type for a post, and which ones this visitor already recorded."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("post_slug", str, required=True)],
        responses=BlogEngagementSummarySerializer,
        auth=[],
    )
    def get(self, request):
        slug = services.blog_engagement_clean(post_slug=request.query_params.get("post_slug"), engagement_type="like")[
            "post_slug"
        ]
        summary = selectors.blog_engagement_summary(
            post_slug=slug, user_identifier=services.blog_visitor_identifier(RequestContext.from_request(request))
        )
        return Response(summary)
