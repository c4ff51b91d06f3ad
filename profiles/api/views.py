"""Staff API of campaign profiles: thin views over ``profiles.services`` and ``profiles.selectors``.

Updates use optimistic locking: send the version the change is based on as ``version``
in the body or as ``If-Match: "3"``; a stale one is answered 409 with
``current_version``. Responses about one record carry ``ETag: "<version>"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from focusedroom.api.permissions import StaffModelPermissions
from profiles import selectors, services
from profiles.api import filters
from profiles.api import serializers as s
from profiles.models import (
    BrandGuidelines,
    Budget,
    CampaignProfileUsage,
    ProfileContainer,
    TargetCustomerProfile,
    VersionedRecord,
)

UUID_REGEX = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
IF_MATCH = OpenApiParameter(
    "If-Match", location=OpenApiParameter.HEADER, required=False, description='The version, e.g. "3".'
)
PERMANENT = OpenApiParameter(
    "permanent", bool, required=False, description="true: delete a soft-deleted record for good."
)


class ProfilesPermissions(StaffModelPermissions):
    """Model permissions, with custom actions mapped to the permission they need."""

    action_perms = {
        "restore": "change",
        "revert": "change",
        "spend": "change",
        "versions": "view",
    }

    def has_permission(self, request, view):
        needed = self.action_perms.get(getattr(view, "action", None) or "")
        if needed is None:
            return super().has_permission(request, view)
        user = request.user
        model = view.get_queryset().model
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and user.has_perm(f"{model._meta.app_label}.{needed}_{model._meta.model_name}")
        )


def expected_version(request, body_version: int | None) -> int | None:
    """The version a change is based on: the body's ``version`` or the ``If-Match`` header."""
    header = request.headers.get("If-Match")
    header_version = services.parse_version(header, field="If-Match") if header else None
    body_version = services.parse_version(body_version) if body_version is not None else None
    if header_version is not None and body_version is not None and header_version != body_version:
        raise ValidationError({"version": ["The body's version and the If-Match header disagree."]})
    return body_version if body_version is not None else header_version


@contextmanager
def named_as_in(serializer) -> Iterator[None]:
    """A service names the model's fields; answer with the names of the request (``type``, not ``budget_type``)."""
    names = {field.source: name for name, field in serializer.fields.items() if field.source != name}
    try:
        yield
    except ValidationError as exc:
        if not names or not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {names.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc


def with_etag(response: Response, record: VersionedRecord) -> Response:
    response["ETag"] = f'"{record.version}"'
    return response


class VersionedRecordViewSet(viewsets.GenericViewSet):
    """List, create, read, update (PATCH), soft delete, restore, versions and revert."""

    model: type[VersionedRecord]
    input_serializer_class: type
    detail_serializer_class: type | None = None
    permission_classes = [ProfilesPermissions]
    lookup_value_regex = UUID_REGEX
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["created_at", "updated_at", "version"]

    def get_queryset(self):
        return self.model.all_objects.all()

    def get_serializer_class(self):
        if self.action in ("retrieve", "create", "partial_update", "restore", "revert", "destroy"):
            return self.detail_serializer_class or self.serializer_class
        return self.serializer_class

    def _record(self, *, include_deleted: bool = False) -> VersionedRecord:
        queryset = self.get_queryset() if include_deleted else self.get_queryset().filter(deleted_at__isnull=True)
        record = get_object_or_404(queryset, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, record)
        return record

    def _respond(self, code: int = status.HTTP_200_OK) -> Response:
        """The record as it now is (re-read with the detail's related rows)."""
        record = self._record(include_deleted=True)
        serializer_class = self.detail_serializer_class or self.serializer_class
        return with_etag(Response(serializer_class(record).data, status=code), record)

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        record = self._record()
        return with_etag(Response(self.get_serializer(record).data), record)

    def _input(self, request):
        """The request's values, shaped (the service checks them)."""
        data = self.input_serializer_class(data=request.data, partial=self.action == "partial_update")
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        return data, values, values.pop("version", None)

    def create(self, request):
        data, values, _ = self._input(request)
        account_id = values.pop("account_id", None)
        with named_as_in(data):
            record = services.record_create(model=self.model, account_id=account_id, data=values, actor=request.user)
        self.kwargs["pk"] = record.pk
        return self._respond(status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, pk=None):
        record = self._record()
        data, values, body_version = self._input(request)
        with named_as_in(data):
            services.record_update(
                record=record,
                changes=values,
                expected_version=expected_version(request, body_version),
                actor=request.user,
            )
        return self._respond()

    @extend_schema(parameters=[IF_MATCH, PERMANENT], responses={204: None})
    def destroy(self, request, pk=None):
        """Soft delete (example 8); ``?permanent=true`` deletes a soft-deleted record for good."""
        if request.query_params.get("permanent") in ("true", "1"):
            services.record_hard_delete(record=self._record(include_deleted=True), actor=request.user)
        else:
            services.record_soft_delete(
                record=self._record(), actor=request.user, expected_version=expected_version(request, None)
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring a soft-deleted record back (a new version)."""
        services.record_restore(record=self._record(include_deleted=True), actor=request.user)
        return self._respond()

    @extend_schema(responses=s.VersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        """Every version of the record, newest first: who, when and the full data."""
        record = self._record(include_deleted=True)
        page = self.paginate_queryset(selectors.record_versions(record=record))
        return self.get_paginated_response(s.VersionSerializer(page, many=True).data)

    @extend_schema(request=s.RevertInput, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def revert(self, request, pk=None):
        """Make an earlier version's data current again, as a new version."""
        data = s.RevertInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_revert(
            record=self._record(),
            to_version=data.validated_data["to_version"],
            expected_version=expected_version(request, data.validated_data.get("version")),
            actor=request.user,
        )
        return self._respond()


class CustomerProfileViewSet(VersionedRecordViewSet):
    """Target customer profiles. ``?search=`` full text; JSON filters on demographics."""

    model = TargetCustomerProfile
    serializer_class = s.CustomerProfileSerializer
    input_serializer_class = s.CustomerProfileInput
    filterset_class = filters.CustomerProfileFilter
    ordering_fields = [*VersionedRecordViewSet.ordering_fields, "name"]


class BrandGuidelinesViewSet(VersionedRecordViewSet):
    model = BrandGuidelines
    serializer_class = s.BrandGuidelinesSerializer
    input_serializer_class = s.BrandGuidelinesInput
    filterset_class = filters.BrandGuidelinesFilter
    ordering_fields = [*VersionedRecordViewSet.ordering_fields, "brand_name", "industry"]


class BudgetViewSet(VersionedRecordViewSet):
    """Budgets; the detail shows fired alerts and pacing. ``POST …/spend/`` records spend (example 7)."""

    model = Budget
    serializer_class = s.BudgetSerializer
    detail_serializer_class = s.BudgetDetailSerializer
    input_serializer_class = s.BudgetInput
    filterset_class = filters.BudgetFilter
    ordering_fields = [*VersionedRecordViewSet.ordering_fields, "name", "amount", "amount_spent", "percentage_spent"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.prefetch_related("alert_firings")
        return queryset

    @extend_schema(request=s.SpendInput, responses=s.SpendResultSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def spend(self, request, pk=None):
        """Set the amount spent (``amount_spent``) or add to it (``add``); crossed alert thresholds fire once."""
        data = s.SpendInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.budget_record_spend(
            budget=self._record(),
            amount_spent=data.validated_data.get("amount_spent"),
            add=data.validated_data.get("add"),
            expected_version=expected_version(request, data.validated_data.get("version")),
            actor=request.user,
        )
        budget = result.budget
        body = {
            "budget": s.BudgetDetailSerializer(budget).data,
            "alerts_fired": [f"{threshold:.2f}" for threshold in result.alerts_fired],
        }
        return with_etag(Response(body), budget)


class ContainerViewSet(VersionedRecordViewSet):
    """Profile containers; the detail embeds the profile, guidelines and budget (example 4)."""

    model = ProfileContainer
    serializer_class = s.ContainerSerializer
    detail_serializer_class = s.ContainerDetailSerializer
    input_serializer_class = s.ContainerInput
    filterset_class = filters.ContainerFilter
    ordering_fields = [*VersionedRecordViewSet.ordering_fields, "name"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            queryset = queryset.select_related(*selectors.CONTAINER_RELATED)
        return queryset


class UsageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Campaign profile usage. POST records (replaces the campaign's active usage, example 5);
    DELETE ends it (the row stays, inactive)."""

    queryset = CampaignProfileUsage.objects.all()
    serializer_class = s.UsageSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = filters.UsageFilter
    lookup_value_regex = UUID_REGEX
    ordering_fields = ["created_at", "updated_at", "campaign_id"]

    @extend_schema(request=s.UsageInput, responses={200: s.UsageSerializer, 201: s.UsageSerializer})
    def create(self, request):
        data = s.UsageInput(data=request.data)
        data.is_valid(raise_exception=True)
        usage, created = services.campaign_usage_record(**data.validated_data, actor=request.user)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.UsageSerializer(usage).data, status=code)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.campaign_usage_deactivate(usage=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountPermissions(StaffModelPermissions):
    """Account overviews read every campaign-profile table: the view permission of each."""

    MODELS = ("targetcustomerprofile", "brandguidelines", "budget", "profilecontainer", "campaignprofileusage")

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and user.has_perms([f"profiles.view_{m}" for m in self.MODELS])
        )


class AccountProfileStatusView(APIView):
    """Example 6: first-time user detection — does the account have profiles, guidelines, budgets?"""

    permission_classes = [AccountPermissions]

    @extend_schema(responses=s.AccountStatusSerializer)
    def get(self, request, account_id: str):
        return Response(s.AccountStatusSerializer(selectors.account_profile_status(account_id=account_id)).data)


class AccountProfileSummaryView(APIView):
    """Example 10: an account's totals."""

    permission_classes = [AccountPermissions]

    @extend_schema(responses=s.AccountSummarySerializer)
    def get(self, request, account_id: str):
        return Response(s.AccountSummarySerializer(selectors.account_profile_summary(account_id=account_id)).data)
