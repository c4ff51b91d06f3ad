"""Rewards API: the member's own gems (``/me/…``), scans and redemptions, staff configuration.

A member only ever sees their own records: every member queryset is filtered by
``request.user`` and another member's id answers 404. A GET writes nothing: a member
without a wallet yet reads an empty one. Staff are not loyalty members: their ``/me/``
lists are empty, ``me/wallet/`` answers 404 and the services refuse their writes.
Staff writes of the catalogue go through the catalogue services.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import is_member
from focusedroom.api.pagination import CursorPagination
from focusedroom.api.permissions import StaffModelPermissions
from focusedroom.context import RequestContext
from focusedroom.errors import NotFound, PermissionDenied
from rewards import selectors, services
from rewards.api import serializers as s
from rewards.api.idempotency import HEADER, idempotent
from rewards.models import (
    AchievementConfig,
    Goal,
    LedgerEntry,
    PendingCredit,
    Product,
    ProductScan,
    Rank,
    Redemption,
    Referral,
    RewardItem,
    WishlistItem,
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Same key from the same person: the first response is returned and nothing more is written.",
)


class CatalogPermission(StaffModelPermissions):
    """Any signed-in person may read the catalogue; changes need staff model permissions."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


class OwnRecordsMixin:
    """The member's own rows only; an empty queryset while the OpenAPI schema is generated."""

    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or not is_member(self.request.user):
            return self.model.objects.none()
        return self.own_records(self.request.user)


def _is_catalog_staff(request, model) -> bool:
    user = request.user
    return user.is_staff and user.has_perm(f"rewards.view_{model._meta.model_name}")


def _context(request) -> RequestContext:
    return RequestContext.from_request(request, source="api")


class ServiceWritesMixin:
    """Staff create, update and delete through the catalogue services (``<service>_create`` …);
    the serializer only shapes the input."""

    service = ""  # e.g. "product": services.product_create / product_update / product_delete
    instance_kwarg = ""

    def _service(self, verb: str):
        return getattr(services, f"{self.service}_{verb}")

    def perform_create(self, serializer):
        serializer.instance = self._service("create")(data=serializer.validated_data, context=_context(self.request))

    def perform_update(self, serializer):
        serializer.instance = self._service("update")(
            **{self.instance_kwarg: serializer.instance},
            data=serializer.validated_data,
            context=_context(self.request),
        )

    def perform_destroy(self, instance):
        self._service("delete")(**{self.instance_kwarg: instance}, context=_context(self.request))


# ----------------------------------------------------------------------- member API


class WalletView(APIView):
    """The member's balance, lifetime earned, rank per brand and referral link (404 for staff)."""

    @extend_schema(responses=s.WalletSerializer)
    def get(self, request):
        if not is_member(request.user):
            raise NotFound("Staff accounts are not loyalty members: they have no wallet.")
        summary = selectors.wallet_summary(user=request.user)
        summary["referral"] = selectors.member_referral_summary(user=request.user)
        return Response(s.WalletSerializer(summary).data)


class ExpiryScheduleView(APIView):
    """When the member's gems expire: what is left of each lot, per expiry date (404 for staff)."""

    @extend_schema(responses=s.ExpiryScheduleSerializer)
    def get(self, request):
        if not is_member(request.user):
            raise NotFound("Staff accounts are not loyalty members: they have no gems.")
        return Response(s.ExpiryScheduleSerializer(selectors.expiry_schedule(user=request.user)).data)


class PendingGemsView(OwnRecordsMixin, generics.ListAPIView):
    """The member's gems held pending (not spendable yet), the soonest release first."""

    serializer_class = s.PendingCreditSerializer
    filter_backends: list = []

    model = PendingCredit

    def own_records(self, user):
        return selectors.pending_credits_for(user=user)


class TransactionsView(OwnRecordsMixin, generics.ListAPIView):
    """The member's ledger, newest first (cursor pagination)."""

    serializer_class = s.LedgerEntrySerializer
    pagination_class = CursorPagination
    filterset_fields = ["kind", "reason"]

    model = LedgerEntry

    def own_records(self, user):
        return selectors.ledger_for(user=user)


class DailyRewardView(APIView):
    """Claim today's login reward: 201 the first time today, 200 with the same reward afterwards."""

    @extend_schema(
        request=None,
        responses={200: s.DailyRewardSerializer, 201: s.DailyRewardSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request):
        reward, created = services.daily_reward_claim(user=request.user, context=_context(request))
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.DailyRewardSerializer(reward).data, status=code)


class MyAchievementsView(OwnRecordsMixin, generics.ListAPIView):
    """Every active achievement with the member's progress."""

    serializer_class = s.MyAchievementSerializer
    filter_backends: list = []

    model = AchievementConfig

    def own_records(self, user):
        return selectors.achievements_for(user=user)


class WishlistViewSet(OwnRecordsMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = s.WishlistItemSerializer
    filter_backends: list = []

    model = WishlistItem

    def own_records(self, user):
        return selectors.wishlist_for(user=user)

    @extend_schema(
        request=s.WishlistAddSerializer,
        responses={200: s.WishlistItemSerializer, 201: s.WishlistItemSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        data = s.WishlistAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item, created = services.wishlist_add(
            user=request.user,
            product=data.validated_data["product"],
            context=_context(request),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.WishlistItemSerializer(item).data, status=code)

    def perform_destroy(self, instance):
        services.wishlist_remove(user=self.request.user, item=instance, context=_context(self.request))


class GoalViewSet(
    OwnRecordsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.GoalSerializer
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    model = Goal

    def own_records(self, user):
        return selectors.goals_for(user=user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "user", None) and self.request.user.is_authenticated:
            context["balance"] = selectors.wallet_of(user=self.request.user).balance
        return context

    @extend_schema(request=s.GoalCreateSerializer, responses={201: s.GoalSerializer})
    def create(self, request):
        data = s.GoalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        goal = services.goal_create(user=request.user, **data.validated_data, context=_context(request))
        return Response(s.GoalSerializer(goal, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=s.GoalUpdateSerializer, responses=s.GoalSerializer)
    def partial_update(self, request, pk=None):
        goal = self.get_object()
        data = s.GoalUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        goal = services.goal_update(goal=goal, data=data.validated_data, context=_context(request))
        return Response(s.GoalSerializer(goal, context=self.get_serializer_context()).data)

    def perform_destroy(self, instance):
        services.goal_delete(goal=instance, context=_context(self.request))


class ReferralsView(OwnRecordsMixin, generics.ListAPIView):
    """The member's referral code and link, result counts, and the referrals made."""

    serializer_class = s.ReferralSerializer
    filter_backends: list = []

    model = Referral

    def own_records(self, user):
        return selectors.referrals_for(user=user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        summary = selectors.member_referral_summary(user=request.user) if is_member(request.user) else None
        response.data["summary"] = s.ReferralSummarySerializer(summary).data if summary else None
        return response


class ReferralCodeView(APIView):
    """Make the member's referral code when they have none: 201 when made, 200 when they had one."""

    @extend_schema(request=None, responses={200: s.ReferralSummarySerializer, 201: s.ReferralSummarySerializer})
    def post(self, request):
        _, created = services.referral_code_ensure(user=request.user, context=_context(request))
        summary = selectors.member_referral_summary(user=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.ReferralSummarySerializer(summary).data, status=code)


class ScanViewSet(OwnRecordsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Scan a product: ``{"sku", "brand"}`` or ``{"qr": "<brand>:<sku>"}``."""

    serializer_class = s.ScanSerializer
    pagination_class = CursorPagination
    filter_backends: list = []

    model = ProductScan

    def own_records(self, user):
        return ProductScan.objects.filter(user=user).select_related("product__brand")

    @extend_schema(
        request=s.ScanInputSerializer,
        responses={200: s.ScanSerializer, 201: s.ScanSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request):
        data = s.ScanInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scan, created = services.product_scan(user=request.user, **data.validated_data, context=_context(request))
        body = s.ScanSerializer(scan).data
        if not created:
            body["detail"] = "Already scanned today: gems are awarded once per product and day."
        elif scan.points_awarded and scan.entry_id is None:
            body["detail"] = "These gems are pending: you can spend them once they are released (see me/pending-gems/)."
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RedemptionViewSet(OwnRecordsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Spend gems on a product or a reward item; staff (``rewards.reverse_redemption``) may reverse."""

    serializer_class = s.RedemptionSerializer
    pagination_class = CursorPagination
    filter_backends: list = []

    model = Redemption

    def own_records(self, user):
        return Redemption.objects.filter(user=user).select_related("product__brand", "reward_item")

    @extend_schema(
        request=s.RedemptionInputSerializer, responses={201: s.RedemptionSerializer}, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @idempotent
    def create(self, request):
        data = s.RedemptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption, _ = services.redemption_create(
            user=request.user,
            product=data.validated_data.get("product"),
            reward_item=data.validated_data.get("reward_item"),
            idempotency_key=request.headers.get(HEADER, "").strip(),
            context=_context(request),
        )
        return Response(s.RedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ReverseInputSerializer, responses=s.RedemptionSerializer, parameters=[IDEMPOTENCY_PARAMETER]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reverse(self, request, pk=None):
        user = request.user
        if not (user.is_staff and user.has_perm("rewards.reverse_redemption")):
            raise PermissionDenied("You do not have permission to reverse redemptions.")
        redemption = Redemption.objects.filter(pk=pk).first() if str(pk).isdigit() else None
        if redemption is None:
            raise NotFound("No such redemption.")
        data = s.ReverseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        redemption = services.redemption_reverse(
            redemption=redemption, actor=user, reason=data.validated_data["reason"], context=_context(request)
        )
        return Response(s.RedemptionSerializer(redemption).data)


# ------------------------------------------------------------------------ staff API


class ProductViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Products of the brands. Members read active products; staff with model permissions manage them."""

    service = instance_kwarg = "product"
    serializer_class = s.ProductSerializer
    permission_classes = [CatalogPermission]
    filterset_fields = ["brand__slug", "is_active", "is_featured", "sku"]
    ordering_fields = ["name", "points_award", "created_at"]

    def get_queryset(self):
        qs = Product.objects.select_related("brand").order_by("brand__name", "name", "id")
        if not _is_catalog_staff(self.request, Product):
            qs = qs.filter(is_active=True, brand__is_active=True)
        return qs


class RewardItemViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Reward items to spend gems on. Members read active ones; staff manage them."""

    service = instance_kwarg = "reward_item"
    serializer_class = s.RewardItemSerializer
    permission_classes = [CatalogPermission]
    filterset_fields = ["brand__slug", "is_active"]

    def get_queryset(self):
        qs = RewardItem.objects.select_related("brand").order_by("brand__name", "cost", "id")
        if not _is_catalog_staff(self.request, RewardItem):
            qs = qs.filter(is_active=True, brand__is_active=True)
        return qs


class RankViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Staff: ranks of each brand (after changes run ``manage.py recompute_ranks``)."""

    service = instance_kwarg = "rank"
    queryset = Rank.objects.select_related("brand").order_by("brand__name", "points_required", "id")
    serializer_class = s.RankSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["brand__slug", "is_active"]


class AchievementConfigViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Staff: achievement configurations (criteria validated by JSON Schema)."""

    service, instance_kwarg = "achievement_config", "config"
    queryset = AchievementConfig.objects.select_related("brand").order_by("brand__name", "name", "id")
    serializer_class = s.AchievementConfigSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["brand__slug", "achievement_type", "is_active"]


class StaffReviewPermissions(StaffModelPermissions):
    """Staff lists with review actions: reads and the actions (POST) need the ``view`` permission; each
    action's service checks its own permission (cancel, review) and answers 403 without it."""

    perms_map = {**StaffModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class PendingCreditViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff: credits held pending; ``cancel`` (``rewards.cancel_pendingcredit``) within the window, with a reason."""

    queryset = PendingCredit.objects.select_related("user", "brand").order_by("-created_at", "-id")
    serializer_class = s.PendingCreditStaffSerializer
    permission_classes = [StaffReviewPermissions]
    pagination_class = CursorPagination
    filterset_fields = ["status", "reason", "user"]

    @extend_schema(request=s.CancelInputSerializer, responses=s.PendingCreditStaffSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        pending = self.get_object()
        data = s.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pending = services.pending_credit_cancel(
            pending=pending, actor=request.user, reason=data.validated_data["reason"], context=_context(request)
        )
        return Response(s.PendingCreditStaffSerializer(pending).data)


class ReferralReviewViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff: referrals (``?status=held``: held for review); ``approve`` pays, ``reject`` records why
    (``rewards.review_referral``)."""

    queryset = Referral.objects.select_related("referrer", "brand").order_by("-created_at", "-id")
    serializer_class = s.ReferralStaffSerializer
    permission_classes = [StaffReviewPermissions]
    pagination_class = CursorPagination
    filterset_fields = ["status", "referrer"]

    @extend_schema(request=s.ReviewInputSerializer, responses=s.ReferralStaffSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        referral = self.get_object()
        data = s.ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_approve(
            referral=referral, actor=request.user, note=data.validated_data["note"], context=_context(request)
        )
        return Response(s.ReferralStaffSerializer(referral).data)

    @extend_schema(request=s.RejectInputSerializer, responses=s.ReferralStaffSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        referral = self.get_object()
        data = s.RejectInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.referral_reject(
            referral=referral, actor=request.user, note=data.validated_data["note"], context=_context(request)
        )
        return Response(s.ReferralStaffSerializer(referral).data)
