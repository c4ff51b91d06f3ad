"""Operator console for experiments: definitions, lifecycle actions and a results view."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from experiments import services
from experiments.charts import results_chart_svg
from experiments.models import (
    Conversion,
    Experiment,
    ExperimentAuditLog,
    ExperimentStatus,
    Impression,
    Participation,
    Variant,
)
from experiments.results import experiment_results, pct
from focusedroom.admin_tools import ReadOnlyAdmin
from focusedroom.errors import ApplicationError


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("position", "name", "weight", "is_control", "config_json", "description")
    ordering = ("position",)

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.status != ExperimentStatus.DRAFT

    def get_readonly_fields(self, request, obj=None):
        return ("position", "name", "weight", "is_control", "config_json") if self._frozen(obj) else ()

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


class AuditInline(admin.TabularInline):
    model = ExperimentAuditLog
    extra = 0
    fields = ("created_at", "action", "from_status", "to_status", "actor", "details")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at",)
    verbose_name_plural = "history"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def _lifecycle_action(action_name: str, label: str):
    def run(modeladmin, request, queryset):
        done = 0
        for experiment in queryset:
            try:
                services.experiment_transition(experiment=experiment, action=action_name, actor=request.user)
                done += 1
            except (ValidationError, ApplicationError) as exc:
                text = exc.message if isinstance(exc, ApplicationError) else "; ".join(exc.messages)
                modeladmin.message_user(request, f"{experiment.name}: {text}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{label}: {done} experiment(s).", messages.SUCCESS)

    run.__name__ = f"action_{action_name}"
    run.short_description = f"{label} selected experiments"
    run.allowed_permissions = ("change",)
    return run


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "status", "started_at", "ended_at", "participants", "at_a_glance", "results_link")
    list_filter = ("status", "is_active")
    search_fields = ("name", "key")
    ordering = ("-created_at",)
    inlines = [VariantInline, AuditInline]
    actions = [
        _lifecycle_action("start", "Start / resume"),
        _lifecycle_action("pause", "Pause"),
        _lifecycle_action("stop", "Stop"),
        _lifecycle_action("archive", "Archive"),
    ]
    fieldsets = (
        (None, {"fields": ("name", "key", "seed", "description", "results_link")}),
        ("Traffic", {"fields": ("coverage", "eligibility_rules", "conversion_window_days")}),
        ("Analysis", {"fields": ("target_sample_size", "confidence_level", "minimum_detectable_effect")}),
        ("Lifecycle", {"fields": ("status", "is_active", "started_at", "ended_at", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = ["status", "is_active", "started_at", "ended_at", "created_at", "updated_at", "results_link"]
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            fields += ["key", "seed", "conversion_window_days"]
        return fields

    def get_changelist_instance(self, request):
        cl = super().get_changelist_instance(request)
        ids = [e.pk for e in cl.result_list]
        glance: dict = {}
        rows = (
            Participation.objects.filter(
                experiment_id__in=ids, was_eligible_at_exposure=True, has_multiple_exposures=False
            )
            .values("experiment_id", "variant__name", "variant__position")
            .annotate(n=Count("id"), converted=Count("id", filter=Q(conversion_within_window=True)))
            .order_by("experiment_id", "variant__position")
        )
        for row in rows:
            glance.setdefault(row["experiment_id"], []).append(row)
        for experiment in cl.result_list:
            experiment.glance = glance.get(experiment.pk, [])
        return cl

    @admin.display(description="participants")
    def participants(self, obj):
        return f"{sum(r['n'] for r in getattr(obj, 'glance', [])):,}"

    @admin.display(description="conversion rate per variant")
    def at_a_glance(self, obj):
        rows = getattr(obj, "glance", [])
        if not rows:
            return "—"
        return format_html_join(
            ", ", "{}: {}", ((r["variant__name"], pct(r["converted"] / r["n"], 1) if r["n"] else "—") for r in rows)
        )

    @admin.display(description="results")
    def results_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">View results</a>', reverse("admin:experiments_experiment_results", args=[obj.pk])
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.audit_record(
            experiment=obj,
            action="updated" if change else "created",
            actor=request.user,
            details={"changed": form.changed_data},
        )

    def get_urls(self):
        custom = [
            path(
                "<uuid:pk>/results/",
                self.admin_site.admin_view(self.results_view),
                name="experiments_experiment_results",
            )
        ]
        return custom + super().get_urls()

    def results_view(self, request, pk):
        experiment = get_object_or_404(Experiment, pk=pk)
        if not self.has_view_permission(request, experiment):
            raise DjangoPermissionDenied
        results = experiment_results(experiment=experiment)
        metric_name = request.GET.get("metric") or (
            results["metrics"][0]["conversion_type"] if results["metrics"] else ""
        )
        metric = next((m for m in results["metrics"] if m["conversion_type"] == metric_name), None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results: {experiment.name}",
            "opts": self.model._meta,
            "original": experiment,
            "experiment": experiment,
            "results": results,
            "metric": metric,
            "chart": results_chart_svg(metric) if metric else "",
        }
        return TemplateResponse(request, "admin/experiments/experiment/results.html", context)


class TrafficAdmin(ReadOnlyAdmin):
    raw_id_fields = ("user",)


@admin.register(Participation)
class ParticipationAdmin(TrafficAdmin):
    list_display = (
        "experiment",
        "variant",
        "user",
        "anonymous_id",
        "first_exposure_date",
        "total_impressions",
        "was_eligible_at_exposure",
        "has_converted",
        "has_multiple_exposures",
    )
    list_filter = ("was_eligible_at_exposure", "has_converted", "has_multiple_exposures", "experiment")
    list_select_related = ("experiment", "variant", "user")
    search_fields = ("anonymous_id", "user__email")
    ordering = ("-first_exposure_date",)


@admin.register(Impression)
class ImpressionAdmin(TrafficAdmin):
    list_display = (
        "impression_at",
        "experiment",
        "variant",
        "user",
        "anonymous_id",
        "device_type",
        "is_first_exposure",
    )
    list_filter = ("is_first_exposure", "device_type", "experiment")
    list_select_related = ("experiment", "variant", "user")
    search_fields = ("anonymous_id", "user__email")
    ordering = ("-impression_at",)


@admin.register(Conversion)
class ConversionAdmin(TrafficAdmin):
    list_display = (
        "created_at",
        "conversion_type",
        "experiment",
        "variant",
        "user",
        "anonymous_id",
        "conversion_value",
        "conversion_within_window",
    )
    list_filter = ("conversion_type", "conversion_within_window", "experiment")
    list_select_related = ("experiment", "variant", "user")
    raw_id_fields = ("user", "participation")
    search_fields = ("anonymous_id", "user__email", "idempotency_key")
    ordering = ("-created_at",)
