"""Experiments API: staff CRUD + lifecycle + results; public exposures, conversions, active list."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as accounts_selectors
from experiments import services
from experiments.api.serializers import (
    ActiveExperimentSerializer,
    AssignmentSerializer,
    ConversionInputSerializer,
    ConversionResultSerializer,
    ExperimentInputSerializer,
    ExperimentSerializer,
    ExposureInputSerializer,
    ResultsSerializer,
)
from experiments.models import Experiment, Variant
from experiments.selectors import active_definitions, experiment_results
from focusedroom.api import throttling
from focusedroom.api.permissions import StaffModelPermissions
from focusedroom.context import RequestContext, visitor_token
from focusedroom.errors import PermissionDenied


class HasPerm(permissions.BasePermission):
    """Active staff holding ``perm`` (set by ``HasPerm.of("app.codename")``)."""

    perm = ""

    @classmethod
    def of(cls, perm: str):
        return type("HasPerm", (cls,), {"perm": perm})

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(self.perm))


def resolve_participant(
    request, participant: dict | None, *, tracking_perm: str, first_exposure: bool = False
) -> tuple[Any, str, RequestContext]:
    """Who the call is about, and the request's context: members act for themselves, visitors for the
    anonymous id they hold (``services.anonymous_participant``: the ``fr_aid`` cookie or a visitor
    token); staff with the tracking permission may name any participant (server-side tracking)."""
    participant = participant or {}
    user_id, anonymous_id = participant.get("user_id"), participant.get("anonymous_id", "")
    me = request.user if request.user and request.user.is_authenticated else None
    if me is not None and me.is_staff and me.has_perm(tracking_perm) and participant:
        if user_id:
            user = accounts_selectors.person_get(user_id)
            if user is None:
                raise ValidationError({"participant.user_id": ["No such person."]})
            return user, "", _context(request)
        return None, anonymous_id, _context(request)
    if me is not None:
        if user_id and user_id != me.pk:
            raise PermissionDenied("You can only record your own exposures and conversions.")
        return me, "", _context(request)
    if user_id:
        raise PermissionDenied("Log in to act as a person; anonymous clients send an anonymous_id.")
    token = participant.get("visitor_token", "")
    # A browser that names no id acts for its fr_aid cookie (issued now when it has none).
    context = RequestContext.from_request(request, source="api", issue_visitor_id=not (anonymous_id or token))
    anonymous_id = services.anonymous_participant(
        anonymous_id=anonymous_id, visitor_token=token, context=context, first_exposure=first_exposure
    )
    return None, anonymous_id, context


def _context(request) -> RequestContext:
    return RequestContext.from_request(request, source="api")


class ExperimentViewSet(viewsets.ModelViewSet):
    """Staff: experiments with their variants (nested), lifecycle actions and results.

    ``POST /experiments/`` creates a draft with its variants; ``PATCH`` changes it
    (``variants`` replaces the list, only while a draft). ``start``, ``pause``, ``stop``
    and ``archive`` move it along its lifecycle. ``DELETE`` removes drafts only.
    """

    queryset = Experiment.objects.prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("position")))
    serializer_class = ExperimentSerializer
    permission_classes = [StaffModelPermissions]
    lookup_field = "key"
    filterset_fields = ["status", "is_active"]
    ordering = ("-created_at",)
    ordering_fields = ["created_at", "name", "started_at"]

    def get_permissions(self):
        if self.action in ("exposures", "active"):
            return [permissions.AllowAny()]
        if self.action in ("start", "pause", "stop", "archive"):
            return [HasPerm.of("experiments.change_experiment")()]
        if self.action == "results":
            return [HasPerm.of("experiments.view_experiment")()]
        return super().get_permissions()

    def counts_throttle_itself(self, request) -> bool:
        """An exposure appended to the buffer counts the request's throttle in the same script."""
        return self.action == "exposures" and services.exposures_buffered()

    def _require_variant_perm(self, perm: str) -> None:
        if not self.request.user.has_perm(perm):
            raise PermissionDenied(f"Changing variants needs the '{perm}' permission.")

    @extend_schema(request=ExperimentInputSerializer, responses={201: ExperimentSerializer})
    def create(self, request, *args, **kwargs):
        data = ExperimentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        variants = fields.pop("variants", None)
        if variants:
            self._require_variant_perm("experiments.add_variant")
        experiment = services.experiment_create(data=fields, variants=variants, context=_context(request))
        return Response(ExperimentSerializer(self.get_queryset().get(pk=experiment.pk)).data, status=201)

    @extend_schema(request=ExperimentInputSerializer, responses=ExperimentSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        experiment = self.get_object()
        data = ExperimentInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        variants = fields.pop("variants", None)
        if variants is not None:
            self._require_variant_perm("experiments.change_variant")
        experiment = services.experiment_update(
            experiment=experiment, data=fields, variants=variants, context=_context(request)
        )
        return Response(ExperimentSerializer(self.get_queryset().get(pk=experiment.pk)).data)

    def perform_destroy(self, instance):
        services.experiment_delete(experiment=instance, context=_context(self.request))

    def _transition(self, request, action_name: str):
        experiment = services.experiment_transition(
            experiment=self.get_object(), action=action_name, context=_context(request)
        )
        return Response(ExperimentSerializer(self.get_queryset().get(pk=experiment.pk)).data)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, key=None):
        """Start a draft (needs ≥ 2 variants, weights summing to 1, one control) or resume a paused experiment."""
        return self._transition(request, "start")

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, key=None):
        return self._transition(request, "pause")

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, key=None):
        return self._transition(request, "stop")

    @extend_schema(request=None, responses=ExperimentSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, key=None):
        return self._transition(request, "archive")

    @extend_schema(responses={200: ResultsSerializer})
    @action(detail=True, methods=["get"])
    def results(self, request, key=None):
        """Results per conversion type and variant with the method in force (``method``: ``sequential`` or
        ``fixed_horizon``), ``p_value``, ``ci``, the decision and its verdict, ``cuped`` when regression-adjusted;
        ``segments`` per metric (Benjamini–Hochberg), ``guardrails``, SRM, multiple exposures, power."""
        return Response(experiment_results(experiment=self.get_object()))

    @extend_schema(responses=ActiveExperimentSerializer(many=True), auth=[])
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def active(self, request):
        """Running experiments, for SDKs that assign locally with GrowthBook's hash v2."""
        body = [
            {
                "key": d["key"],
                "seed": d["seed"],
                "hash_version": 2,
                "coverage": d["coverage"],
                "eligibility_rules": d["eligibility_rules"],
                "variants": [
                    {"name": v["name"], "weight": v["weight"], "is_control": v["is_control"], "config": v["config"]}
                    for v in d["variants"]
                ],
            }
            for d in active_definitions()
        ]
        return Response(body)

    @extend_schema(request=ExposureInputSerializer, responses=AssignmentSerializer, auth=[])
    @action(detail=True, methods=["post"], filter_backends=[])
    def exposures(self, request, key=None):
        """Assign the participant and record an exposure. ``?fr_force=<key>:<variant>`` previews without recording."""
        with throttling.count_owed(request) as owed:
            data = ExposureInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            fields = dict(data.validated_data)
            participant = fields.pop("participant", None)
            forced = services.parse_force(request.query_params.get("fr_force")).get(key)
            if forced:
                assignment = services.forced_assignment(key=key, variant_name=forced)
                if assignment is not None:
                    return Response(assignment.as_dict())
            user, anonymous_id, context = resolve_participant(
                request, participant, tracking_perm="experiments.add_impression", first_exposure=True
            )
            assignment = services.exposure_record(
                key=key, user=user, anonymous_id=anonymous_id, tracking=fields, context=context, owed=owed
            )
        body = assignment.as_dict()
        if user is None and anonymous_id:
            # Proof that this client holds the id: send it back with later exposures and conversions.
            body["visitor_token"] = visitor_token(anonymous_id)
        return Response(body)


class ConversionView(APIView):
    """Record a conversion; attributed by first exposure to the participant's experiments.

    An anonymous visitor converts only for the id it holds (its ``fr_aid`` cookie, or the
    ``visitor_token`` of its first exposure). Test completed, email verified and referral
    converted are recorded by FocusedRoom itself and refused here."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=ConversionInputSerializer,
        responses={201: ConversionResultSerializer, 200: ConversionResultSerializer},
        auth=[],
    )
    def post(self, request):
        data = ConversionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        user, anonymous_id, context = resolve_participant(
            request, fields.pop("participant", None), tracking_perm="experiments.add_conversion"
        )
        outcomes = services.conversion_record(
            conversion_type=fields.pop("conversion_type"),
            conversion_value=fields.pop("conversion_value", None),
            experiment_key=fields.pop("experiment_key", None),
            details=fields.pop("details", None),
            idempotency_key=fields.pop("idempotency_key", ""),
            occurred_at=fields.pop("occurred_at", None),
            user=user,
            anonymous_id=anonymous_id,
            tracking=fields,
            context=context,
        )
        created = any(not o.duplicate for o in outcomes)
        return Response(
            {"conversions": [o.as_dict() for o in outcomes]},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
