"""Operator console for experiments: definitions, lifecycle actions and a results view.

Every write goes through ``experiments.services`` with a console ``RequestContext`` (the
staff member is the actor), so a console edit is validated, audited and cached exactly
like the same edit through the API. The forms only shape input; a service's refusal is
shown on the form (``focusedroom.forms.add_service_errors``) or as a message.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet, construct_instance
from django.http import HttpResponseRedirect
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
    Holdout,
    Impression,
    Participation,
    Variant,
)
from experiments.results import pct
from experiments.selectors import experiment_results
from focusedroom.admin_tools import ReadOnlyAdmin
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors, error_message

EXPERIMENT_FIELDS = tuple(sorted(services.EDITABLE_FIELDS))
VARIANT_FIELDS = ("name", "weight", "is_control", "config_json", "description")


def console_context(request) -> RequestContext:
    return RequestContext.from_request(request, source="console")


def for_form(exc: ValidationError | ApplicationError) -> ValidationError | ApplicationError:
    """A service refusal with its nested paths folded onto the form's fields:
    ``eligibility_rules.channel.$near`` onto ``eligibility_rules`` ("channel.$near: …"); the
    variants' paths are already summed up, in words, under ``variants``."""
    if not hasattr(exc, "error_dict"):
        return exc
    folded: dict[str, list[str]] = {}
    for where, messages_ in exc.message_dict.items():
        if where.startswith("variants[") and "variants" in exc.message_dict:
            continue
        root, dot, rest = where.partition(".")
        folded.setdefault(root, []).extend(f"{rest}: {m}" if dot else m for m in messages_)
    return ValidationError(folded)


class ServiceRefused(Exception):
    """A service said no while the console saved; the form is shown again with the reasons."""

    def __init__(self, exc: ValidationError | ApplicationError):
        super().__init__(str(exc))
        self.exc = exc


class ShapeOnlyForm(forms.ModelForm):
    """Fields parse the input; the rules (uniqueness, constraints, ranges) are the service's.

    A ModelForm would also run the model's validation (``full_clean``: constraints and unique
    checks) — the same rules again, with other messages. Here the form only fills the
    instance; the service validates once, and its refusal comes back through ``clean``.
    """

    service_refusal: ValidationError | ApplicationError | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_fields = {f.name: f for f in self._meta.model._meta.get_fields()}
        for name, field in self.fields.items():
            # Parsing stays (a number is a number); limits, formats and ranges are the service's.
            field.validators = [v for v in field.validators if isinstance(v, ProhibitNullCharactersValidator)]
            if isinstance(field, forms.CharField) and getattr(model_fields.get(name), "null", False):
                field.empty_value = None  # an empty box is "none", as through the API

    def _post_clean(self) -> None:
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        except ValidationError as exc:
            self._update_errors(exc)

    def clean(self):
        cleaned = super().clean()
        if self.service_refusal is not None:
            add_service_errors(self, for_form(self.service_refusal))
        return cleaned


class ExperimentForm(ShapeOnlyForm):
    class Meta:
        model = Experiment
        fields = EXPERIMENT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "key" in self.fields:
            self.fields["key"].required = False
            self.fields["key"].help_text = "Leave blank to build it from the name. " + self.fields["key"].help_text


class VariantFormSet(BaseInlineFormSet):
    def validate_unique(self) -> None:
        """Unique names and positions per experiment are the service's rules."""


class VariantInline(admin.TabularInline):
    model = Variant
    form = ShapeOnlyForm
    formset = VariantFormSet
    extra = 0
    fields = ("position", *VARIANT_FIELDS)
    ordering = ("position",)

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.status != ExperimentStatus.DRAFT

    def get_readonly_fields(self, request, obj=None):
        return ("position", "name", "weight", "is_control", "config_json") if self._frozen(obj) else ()

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


def variants_from(formset: VariantFormSet) -> list[dict] | None:
    """The variants the inline asks for, in order (None when it was left unchanged).

    Rows are ordered by position; a new row whose position was left alone comes after the
    existing ones, in the order of the rows. Read-only columns (a started experiment's) keep
    the stored values, so only the descriptions can differ there, which the service allows.
    """
    if not formset.has_changed():
        return None
    existing = formset.initial_form_count()
    after = max((form.instance.position for form in formset.forms[:existing]), default=-1) + 1
    kept = []
    for i, form in enumerate(formset.forms):
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            continue
        if i >= existing and not form.has_changed():
            continue  # an empty extra row
        placed = i < existing or "position" in form.changed_data
        kept.append((form.instance.position if placed else after + i, i, form.instance))
    return [{f: getattr(variant, f) for f in VARIANT_FIELDS} for _, _, variant in sorted(kept, key=lambda k: k[:2])]


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


def _each(modeladmin, request, queryset, label: str, service, **kwargs) -> None:
    """Run a service on every selected experiment; report refusals one by one."""
    done = 0
    context = console_context(request)
    for experiment in queryset:
        try:
            service(experiment=experiment, context=context, **kwargs)
            done += 1
        except (ValidationError, ApplicationError) as exc:
            modeladmin.message_user(request, f"{experiment.name}: {error_message(exc)}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done} experiment(s).", messages.SUCCESS)


def _lifecycle_action(action_name: str, label: str):
    def run(modeladmin, request, queryset):
        _each(modeladmin, request, queryset, label, services.experiment_transition, action=action_name)

    run.__name__ = f"action_{action_name}"
    run.short_description = f"{label} selected experiments"
    run.allowed_permissions = ("change",)
    return run


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
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
        "delete_selected",
    ]
    fieldsets = (
        (None, {"fields": ("name", "key", "seed", "description", "results_link")}),
        ("Traffic", {"fields": ("coverage", "eligibility_rules", "conversion_window_days")}),
        (
            "Analysis",
            {
                "fields": (
                    "target_sample_size",
                    "confidence_level",
                    "minimum_detectable_effect",
                    "sequential_testing",
                    "sequential_tuning",
                    "regression_adjustment",
                    "pre_exposure_window_days",
                    "guardrail_threshold",
                )
            },
        ),
        ("Lifecycle", {"fields": ("status", "is_active", "started_at", "ended_at", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        fields = ["status", "is_active", "started_at", "ended_at", "created_at", "updated_at", "results_link"]
        if obj is not None and obj.status != ExperimentStatus.DRAFT:
            fields += ["key", "seed", "conversion_window_days", "sequential_tuning"]
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

    # ------------------------------------------------------------ saving via services

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "experiment_service_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"service_refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            # Nothing was saved (the view's transaction rolled back): show the same form again,
            # with the service's reasons on it.
            request.experiment_service_refusal = refused.exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Nothing here: the experiment and its variants are saved together by one service call
        in ``save_related``, where the variants inline is at hand."""

    def save_related(self, request, form, formsets, change):
        variants = next((variants_from(f) for f in formsets if isinstance(f, VariantFormSet)), None)
        data = {name: value for name, value in form.cleaned_data.items() if name in services.EDITABLE_FIELDS}
        context = console_context(request)
        try:
            if change:
                experiment = services.experiment_update(
                    experiment=form.instance, data=data, variants=variants, context=context
                )
            else:
                experiment = services.experiment_create(data=data, variants=variants or [], context=context)
        except (ValidationError, ApplicationError) as exc:
            raise ServiceRefused(exc) from exc
        # What the admin shows next (messages, redirect) is about the saved experiment.
        experiment.refresh_from_db()
        for field in Experiment._meta.concrete_fields:
            setattr(form.instance, field.attname, getattr(experiment, field.attname))
        form.instance._state.adding = False
        form.instance._state.db = experiment._state.db
        form.variants_changed = variants is not None

    def construct_change_message(self, request, form, formsets, add=False):
        message = construct_change_message(form, [], add)
        if getattr(form, "variants_changed", False) and not add:
            message.append({"changed": {"fields": ["variants"]}})
        return message

    def delete_model(self, request, obj):
        try:
            services.experiment_delete(experiment=obj, context=console_context(request))
        except (ValidationError, ApplicationError) as exc:
            raise ServiceRefused(exc) from exc

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, error_message(refused.exc), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:experiments_experiment_change", args=[object_id]))

    def delete_queryset(self, request, queryset):
        for experiment in queryset:
            self.delete_model(request, experiment)

    @admin.action(description="Delete selected drafts", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Django's confirmation page, then each deletion through the service (drafts only)."""
        if not request.POST.get("post"):
            return django_delete_selected(self, request, queryset)
        _each(self, request, queryset, "Deleted", services.experiment_delete)
        return None

    # ------------------------------------------------------------------ results view

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
        challengers = [v for v in metric["variants"] if not v["is_control"]] if metric else []
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results: {experiment.name}",
            "opts": self.model._meta,
            "original": experiment,
            "experiment": experiment,
            "results": results,
            "metric": metric,
            "challengers": challengers,
            "adjusted": [v for v in challengers if v.get("cuped")],
            "guardrails_flagged": any(
                row.get("status") in ("harm", "watch") for g in results["guardrails"] for row in g["variants"]
            ),
            "chart": results_chart_svg(metric) if metric else "",
        }
        return TemplateResponse(request, "admin/experiments/experiment/results.html", context)


class HoldoutForm(ShapeOnlyForm):
    class Meta:
        model = Holdout
        fields = ("brand", "share", "seed", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seed"].required = False


@admin.register(Holdout)
class HoldoutAdmin(admin.ModelAdmin):
    """A brand's holdout: saved through ``services.holdout_save`` (same rules as everywhere)."""

    form = HoldoutForm
    list_display = ("brand", "share_percent", "is_active", "updated_at")
    list_select_related = ("brand",)
    readonly_fields = ("created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return ("brand", "created_at", "updated_at") if obj is not None else ("created_at", "updated_at")

    @admin.display(description="share held out")
    def share_percent(self, obj):
        return pct(float(obj.share), 1)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "holdout_service_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"service_refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            request.holdout_service_refusal = refused.exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            saved = services.holdout_save(
                brand=obj.brand if change else data.get("brand"),
                share=data.get("share"),
                seed=data.get("seed") or None,
                is_active=bool(data.get("is_active")),
                context=console_context(request),
            )
        except (ValidationError, ApplicationError) as exc:
            raise ServiceRefused(exc) from exc
        obj.pk = saved.pk
        obj._state.adding = False
        obj._state.db = saved._state.db

    def has_delete_permission(self, request, obj=None):
        """A holdout ends by being made inactive (or given a share of 0): its seed stays on record."""
        return False


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
