from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import generics, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import is_member
from engagement import selectors, services
from engagement.api.filters import QuizResultFilter
from engagement.api.serializers import (
    BigFiveResultSerializer,
    BigFiveSubmitSerializer,
    BlogEngagementInputSerializer,
    BlogEngagementSerializer,
    BlogEngagementSummarySerializer,
    CompareLinkCreateSerializer,
    CompareLinkJoinSerializer,
    CompareLinkSerializer,
    InventorySerializer,
    MyReportSerializer,
    OwnBigFiveResultSerializer,
    StaffQuizResultSerializer,
    inventory_payload,
)
from engagement.models import QuizResult
from focusedroom.api.pagination import CursorPagination
from focusedroom.api.permissions import StaffModelPermissions
from focusedroom.context import RequestContext
from focusedroom.errors import NotFound


class BigFiveInventoryView(APIView):
    """The IPIP-NEO-120 items (id, number, text, domain, facet) — never the scoring key."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=InventorySerializer, auth=[])
    def get(self, request):
        return Response(inventory_payload())


def _result_body(request, result) -> dict:
    """The owner (logged in) gets the report number and gems; anyone else the scores only. Serialised
    without a context (fields built once per class), the report's path made absolute here."""
    own = selectors.quiz_result_is_owner(result=result, user=request.user)
    body = (OwnBigFiveResultSerializer if own else BigFiveResultSerializer)(result).data
    body["url"] = request.build_absolute_uri(body["url"])
    return body


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


# ------------------------------------------------------------------- the member's reports


class MyReportsPagination(CursorPagination):
    ordering = ("-report_id", "-id")


class MyReportsView(generics.ListAPIView):
    """Every Big Five report of the authenticated member, newest first (cursor pagination): date, norm group,
    the five percentiles and levels, and the change of each domain since the report before — in percentile
    points, and whether it is larger than measurement error. Only ever the member's own reports; staff
    accounts have none."""

    serializer_class = MyReportSerializer
    pagination_class = MyReportsPagination
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not is_member(self.request.user):
            return QuizResult.objects.none()
        return selectors.quiz_results_of_person(user=self.request.user).only(
            "public_id", "report_id", "created_at", "scores", "customer_id", "quiz_type"
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = selectors.report_rows(results=list(page))
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


# --------------------------------------------------------------------------- compare links


def _member_or_404(request):
    if not is_member(request.user):
        raise NotFound("Staff accounts have no reports to compare.")
    return request.user


class CompareLinksView(APIView):
    """Your compare links (made or joined), newest first; POST makes one from one of your reports."""

    pagination_class = None

    @extend_schema(responses=CompareLinkSerializer(many=True))
    def get(self, request):
        user = _member_or_404(request)
        links = selectors.compare_links_of_person(user=user)
        seen = [selectors.compare_link_view(link=link, viewer=user) for link in links]
        return Response(CompareLinkSerializer(seen, many=True, context={"request": request}).data)

    @extend_schema(request=CompareLinkCreateSerializer, responses={201: CompareLinkSerializer})
    def post(self, request):
        user = _member_or_404(request)
        data = CompareLinkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = selectors.quiz_result_get(public_id=data.validated_data["report"])
        if result is None or not selectors.quiz_result_is_owner(result=result, user=user):
            raise NotFound("No such report.")
        link = services.compare_link_create(
            owner=user, result=result, context=RequestContext.from_request(request, source="api")
        )
        view = selectors.compare_link_view(link=link, viewer=user)
        return Response(CompareLinkSerializer(view, context={"request": request}).data, status=status.HTTP_201_CREATED)


class CompareLinkDetailView(APIView):
    """One comparison, for its two people only (404 for anyone else): both profiles side by side."""

    @extend_schema(responses=CompareLinkSerializer)
    def get(self, request, public_id: str):
        link = selectors.compare_link_of_viewer(public_id=public_id, user=_member_or_404(request))
        if link is None:
            raise NotFound("No such comparison.")
        view = selectors.compare_link_view(link=link, viewer=request.user)
        return Response(CompareLinkSerializer(view, context={"request": request}).data)


class CompareLinkRevokeView(APIView):
    """Either side revokes the comparison: nobody sees it any more."""

    @extend_schema(request=None, responses=CompareLinkSerializer)
    def post(self, request, public_id: str):
        link = selectors.compare_link_of_viewer(public_id=public_id, user=_member_or_404(request))
        if link is None:
            raise NotFound("No such comparison.")
        link = services.compare_link_revoke(
            link=link, user=request.user, context=RequestContext.from_request(request, source="api")
        )
        view = selectors.compare_link_view(link=link, viewer=request.user)
        return Response(CompareLinkSerializer(view, context={"request": request}).data)


class CompareLinkJoinView(APIView):
    """Join a compare link you were sent (its id and signature from the URL) with one of your reports."""

    @extend_schema(request=CompareLinkJoinSerializer, responses=CompareLinkSerializer)
    def post(self, request):
        user = _member_or_404(request)
        data = CompareLinkJoinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.compare_link_for_invite(
            public_id=data.validated_data["link"], signature=data.validated_data["signature"]
        )
        result = None
        if data.validated_data.get("report"):
            result = selectors.quiz_result_get(public_id=data.validated_data["report"])
            if result is None or not selectors.quiz_result_is_owner(result=result, user=user):
                raise NotFound("No such report.")
        link = services.compare_link_join(
            link=link, guest=user, result=result, context=RequestContext.from_request(request, source="api")
        )
        view = selectors.compare_link_view(link=link, viewer=user)
        return Response(CompareLinkSerializer(view, context={"request": request}).data)
