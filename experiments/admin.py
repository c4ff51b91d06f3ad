"""Operator console for experiments: definitions, the lifecycle as buttons, and a results view.

Every write goes through ``experiments.services`` with a console ``RequestContext`` (the
staff member is the actor), so a console edit is validated, audited and cached exactly
like the same edit through the API. The forms only shape input; a service's refusal is
shown on the form (``focusedroom.forms.add_service_errors``) or as a message.

Variant weights are entered in percent (the service stores shares of 1) with a live total;
positions follow the order of the rows. Start, Pause, Stop and Archive are buttons on the
experiment's page, each behind a confirmation that says what happens.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.utils import construct_change_message
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.core.validators import (
    DecimalValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet, construct_instance
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
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
CONFIG_EXAMPLE = '{"headline": "Discover your strengths"}'


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
        widgets = {
            "name": forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"}),
            "eligibility_rules": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField fr-code"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "key" in self.fields:
            self.fields["key"].required = False
            self.fields["key"].help_text = "Leave blank to build it from the name. " + self.fields["key"].help_text


class ConfigJSONField(forms.JSONField):
    """A variant's config: a JSON object; an empty box is ``{}`` (the page's defaults)."""

    def prepare_value(self, value):
        if value is None or value == {}:
            return ""
        return super().prepare_value(value)


def percent(weight: Decimal | None) -> Decimal | None:
    """A stored share of 1 as a percentage without trailing zeros (0.3333 -> 33.33)."""
    if weight is None:
        return None
    value = (weight * 100).quantize(Decimal("0.01"))
    return value.to_integral() if value == value.to_integral() else value.normalize()


class VariantForm(ShapeOnlyForm):
    """A variant row: its weight in percent of the covered traffic (stored as a share of 1)."""

    weight_percent = forms.DecimalField(
        label="weight (%)",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100", "class": "fr-weight"}),
        help_text="Share of the covered traffic, in percent; the weights add up to 100.",
    )

    class Meta:
        model = Variant
        fields = ("name", "is_control", "config_json", "description")
        field_classes = {"config_json": ConfigJSONField}
        widgets = {
            "name": forms.TextInput(attrs={"size": 18, "autocomplete": "off"}),
            "description": forms.TextInput(attrs={"size": 28}),
            "config_json": forms.Textarea(
                attrs={"rows": 2, "cols": 34, "class": "fr-code", "placeholder": CONFIG_EXAMPLE, "spellcheck": "false"}
            ),
        }
        help_texts = {"config_json": f"What the page shows, as a JSON object, e.g. {CONFIG_EXAMPLE}. Empty: defaults."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A percentage is a number from 0 to 100 with at most two decimals (a share of 1 has four).
        self.fields["weight_percent"].validators = [
            MinValueValidator(0),
            MaxValueValidator(100),
            DecimalValidator(max_digits=5, decimal_places=2),
        ]
        if self.instance.pk is not None:
            self.fields["weight_percent"].initial = percent(self.instance.weight)
        # A table row's inputs are named by their column and row (the table's headers are not labels).
        index = (self.prefix or "").rsplit("-", 1)[-1]
        row = f"variant {int(index) + 1}" if index.isdigit() else "the new variant"
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-label", f"{field.label or name} of {row}")

    def _post_clean(self) -> None:
        super()._post_clean()
        weight = self.cleaned_data.get("weight_percent")
        if "weight_percent" in self.fields and weight is not None:
            self.instance.weight = weight / 100
        if "config_json" in self.fields and self.instance.config_json is None:
            self.instance.config_json = {}


class VariantFormSet(BaseInlineFormSet):
    def validate_unique(self) -> None:
        """Unique names and positions per experiment are the service's rules."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            row = f"variant {index + 1}" if index is not None else "the new variant"
            form.fields["DELETE"].widget.attrs["aria-label"] = f"Delete {row}"


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantFormSet
    template = "admin/experiments/experiment/variants_inline.html"
    extra = 0
    ordering = ("position",)

    def _frozen(self, obj) -> bool:
        return obj is not None and obj.status != ExperimentStatus.DRAFT

    def get_extra(self, request, obj=None, **kwargs):
        return 2 if obj is None else 0  # a new experiment starts with a control and a challenger row

    def get_fields(self, request, obj=None):
        weight = "share" if self._frozen(obj) else "weight_percent"
        return ("name", weight, "is_control", "config_json", "description")

    def get_readonly_fields(self, request, obj=None):
        return ("name", "share", "is_control", "config_json") if self._frozen(obj) else ()

    @admin.display(description="weight")
    def share(self, obj) -> str:
        return f"{percent(obj.weight)} %" if obj is not None and obj.weight is not None else "—"

    def has_add_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._frozen(obj) and super().has_delete_permission(request, obj)


def variants_from(formset: VariantFormSet) -> list[dict] | None:
    """The variants the inline asks for, in the order of the rows (None when it was left unchanged).

    The service numbers the positions in that order: the existing variants first (as they are
    stored), then the new rows. Read-only columns (a started experiment's) keep the stored
    values, so only the descriptions can differ there, which the service allows.
    """
    if not formset.has_changed():
        return None
    existing = formset.initial_form_count()
    kept = []
    for i, form in enumerate(formset.forms):
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            continue
        if i >= existing and not form.has_changed():
            continue  # an empty extra row
        kept.append(form.instance)
    return [{f: getattr(variant, f) for f in VARIANT_FIELDS} for variant in kept]


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


def _messages_of(exc: ValidationError | ApplicationError) -> list[str]:
    """A refusal as sentences (the variants' rows are already summed up under ``variants``)."""
    if hasattr(exc, "error_dict"):
        return [m for field, found in exc.message_dict.items() if not field.startswith("variants[") for m in found]
    return [error_message(exc)]


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


# What each lifecycle button does, said before it is done: (button, past tense, question, consequences).
LIFECYCLE = {
    "start": (
        "Start",
        "started",
        "Start this experiment?",
        [
            "Visitors start being assigned to its variants, in the weights shown.",
            "Its variants freeze: names, weights, configs and order can no longer change "
            "(descriptions still can). The key, seed and conversion window freeze too.",
        ],
    ),
    "resume": (
        "Resume",
        "resumed",
        "Resume this experiment?",
        ["Visitors are assigned again, to the same variants in the same weights. The variants stay frozen."],
    ),
    "pause": (
        "Pause",
        "paused",
        "Pause this experiment?",
        [
            "No new visitors are assigned; everyone keeps the variant they saw.",
            "The variants stay frozen. You can resume it later.",
        ],
    ),
    "stop": (
        "Stop",
        "stopped",
        "Stop this experiment for good?",
        [
            "No new visitors are assigned, and it cannot be started again.",
            "Its results stay readable; to test again, create a new experiment.",
        ],
    ),
    "archive": (
        "Archive",
        "archived",
        "Archive this experiment?",
        ["It leaves the active lists and cannot be started or changed again. Its results stay readable."],
    ),
}


def lifecycle_actions(experiment: Experiment) -> list[str]:
    """The lifecycle buttons an experiment in its current status offers (the service's transitions)."""
    found = []
    for action, (allowed, _) in services.TRANSITIONS.items():
        if experiment.status in allowed:
            found.append("resume" if action == "start" and experiment.status == ExperimentStatus.PAUSED else action)
    return found


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    change_form_template = "admin/experiments/experiment/change_form.html"
    # A new experiment is a draft with no history: its add form asks only for what to test.
    hidden_on_add = ("results_link", "status", "is_active", "started_at", "ended_at", "created_at", "updated_at")
    list_display = ("name", "status", "period", "participants", "at_a_glance", "results_link")
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

    def get_inline_instances(self, request, obj=None):
        return [
            i for i in super().get_inline_instances(request, obj) if obj is not None or isinstance(i, VariantInline)
        ]

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

    @admin.display(description="running", ordering="started_at")
    def period(self, obj):
        if obj.started_at is None:
            return "—"
        end = date_format(obj.ended_at, "j M Y") if obj.ended_at else "now"
        return f"{date_format(obj.started_at, 'j M Y')} – {end}"

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
            '<a href="{}" class="fr-nowrap">View results</a>',
            reverse("admin:experiments_experiment_results", args=[obj.pk]),
        )

    # ------------------------------------------------------------- lifecycle buttons

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            can_change = self.has_change_permission(request, obj)
            context["lifecycle"] = [
                {
                    "action": action,
                    "label": LIFECYCLE[action][0],
                    "url": reverse("admin:experiments_experiment_lifecycle", args=[obj.pk, action]),
                }
                for action in (lifecycle_actions(obj) if can_change else [])
            ]
            context["results_url"] = reverse("admin:experiments_experiment_results", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def lifecycle_view(self, request, pk, action):
        """A lifecycle button: GET asks for confirmation (what will happen), POST does it."""
        experiment = get_object_or_404(Experiment, pk=pk)
        if not self.has_change_permission(request, experiment):
            raise DjangoPermissionDenied
        if action not in LIFECYCLE:
            raise Http404("Unknown action.")
        change_url = reverse("admin:experiments_experiment_change", args=[experiment.pk])
        errors: list[str] = []
        if request.method == "POST":
            try:
                services.experiment_transition(
                    experiment=experiment,
                    action="start" if action == "resume" else action,
                    context=console_context(request),
                )
            except (ValidationError, ApplicationError) as exc:
                errors = _messages_of(exc)
            else:
                experiment.refresh_from_db()
                self.message_user(
                    request, f"“{experiment.name}” is now {experiment.get_status_display().lower()}.", messages.SUCCESS
                )
                return HttpResponseRedirect(change_url)
        label, done, question, consequences = LIFECYCLE[action]
        variants = list(experiment.variants.order_by("position"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}: {experiment.name}",
            "opts": self.model._meta,
            "original": experiment,
            "experiment": experiment,
            "action": action,
            "label": label,
            "done": done,
            "question": question,
            "consequences": consequences,
            "available": action in lifecycle_actions(experiment),
            "errors": errors,
            "variants": [{"variant": v, "percent": percent(v.weight)} for v in variants],
            "total": percent(sum((v.weight for v in variants), Decimal(0))),
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/experiments/experiment/lifecycle_confirm.html", context, status=400 if errors else 200
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
            ),
            path(
                "<uuid:pk>/lifecycle/<slug:action>/",
                self.admin_site.admin_view(self.lifecycle_view),
                name="experiments_experiment_lifecycle",
            ),
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
