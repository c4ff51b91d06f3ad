"""Operator console for campaign profiles.

Every write goes through ``profiles.services``, with the staff member as the actor:
saving a change form is an update based on the version the form was loaded with (a stale
form is refused, not overwritten), "delete" is a soft delete, restore and delete-for-good
are actions, and the version history page can revert to any earlier version (as a new
version). Forms only shape input: the services' rules decide, and their refusals are shown
next to the fields (``focusedroom.forms.add_service_errors``). Inlines and campaign usages
are read-only.

The JSON documents (demographics, behaviour, persona, brand guidelines, notes) are edited
through structured fields (``profiles.document_forms``), validated by the services with the
same JSON Schemas as the API. A container's profile, guidelines and budget are picked from
autocompletes that offer only live records of the container's account, and an account with
no campaign records yet is set up — default container and its three parts — in one guided
form.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import RestrictedError
from django.forms.models import construct_instance
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, resolve, reverse
from django.utils.html import format_html, format_html_join

from focusedroom import registries
from focusedroom.admin_tools import ReadOnlyAdmin, indexed_values_filter
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors, error_message
from profiles import selectors, services
from profiles.document_forms import DocumentField
from profiles.models import (
    TRAITS,
    BrandGuidelines,
    Budget,
    BudgetAlertFiring,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
)


class PrettyJSONField(forms.JSONField):
    """JSON shown indented, so a nested document can be read and edited."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, cls=self.encoder)


JSON_WIDGET = forms.Textarea(attrs={"rows": 5, "cols": 90, "class": "vLargeTextField fr-code", "spellcheck": "false"})
NAME_WIDGET = forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"})
DOCUMENTS = ("fr-documents",)  # the fieldset class of a structured document


class VersionedRecordForm(forms.ModelForm):
    """A change form that knows the version it was loaded with.

    The form turns the input into values; whether they are acceptable is the services'
    call (``validate_record``: JSON Schemas with the offending path, references, …, and
    ``record_check_version``), asked before saving so that a refusal is shown next to the
    fields. Saving asks again, in its transaction.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding and not self.is_bound:
            self.fields["expected_version"].initial = self.instance.version
        if not self.instance._state.adding and "account_id" in self.fields:
            self.fields["account_id"].disabled = True

    def _post_clean(self):
        try:
            self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
            if not self.instance._state.adding:
                services.record_check_version(
                    record=self.instance, expected_version=self.cleaned_data.get("expected_version")
                )
            services.validate_record(record=self.instance)
        except (ValidationError, ApplicationError) as exc:
            add_service_errors(self, exc)


class TargetCustomerProfileForm(VersionedRecordForm):
    demographics = DocumentField(name="demographics")
    behavior = DocumentField(name="behavior", label="Behaviour")
    persona = DocumentField(name="persona")
    metadata = DocumentField(name="metadata", label="Notes")


class BrandGuidelinesForm(VersionedRecordForm):
    high_level_guidelines = DocumentField(name="high_level_guidelines", label="High-level guidelines")
    full_style_guide = DocumentField(name="full_style_guide", nullable=True, label="Full style guide")
    metadata = DocumentField(name="metadata", label="Notes")


class NotesForm(VersionedRecordForm):
    metadata = DocumentField(name="metadata", label="Notes")


class AccountAutocompleteSelect(AutocompleteSelect):
    """An autocomplete that asks only for records of the account typed in (or shown on) the form
    (``static/profiles/account-autocomplete.js`` sends it; the records' admins filter by it)."""

    def __init__(self, *args, account_field: str = "id_account_id", **kwargs):
        super().__init__(*args, **kwargs)
        self.account_field = account_field

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["class"] = attrs["class"].replace("admin-autocomplete", "fr-account-autocomplete")
        attrs["data-account-field"] = self.account_field
        return attrs

    @property
    def media(self):
        # After Django's jQuery namespace (and so after select2), which the script uses.
        return super().media + forms.Media(
            js=["admin/js/jquery.init.js", "profiles/account-autocomplete.js"], css={"all": ["profiles/admin.css"]}
        )


def may_set_up(user) -> bool:
    """Setting up an account adds a profile, guidelines, a budget and a container."""
    return all(
        user.has_perm(f"profiles.add_{m}")
        for m in ("targetcustomerprofile", "brandguidelines", "budget", "profilecontainer")
    )


def setup_link(request) -> dict:
    return {"setup_url": reverse("admin:profiles_profilecontainer_setup")} if may_set_up(request.user) else {}


def is_autocomplete(request) -> bool:
    match = getattr(request, "resolver_match", None) or resolve(request.path_info)
    return match.url_name == "autocomplete"


class FirstSetupForm(forms.Form):
    """The three parts of an account's first container, and the container, on one page.

    Field names are ``<part>__<field>``; the service's errors, keyed ``<part>.<field>``, come
    back next to them.
    """

    PARTS = ("customer_profile", "brand_guidelines", "budget", "container")
    required_css_class = "required"

    account_id = forms.CharField(
        label="Account id", max_length=255, help_text="The account being set up, e.g. acme-fitness."
    )
    customer_profile__name = forms.CharField(label="Profile name", max_length=255, widget=NAME_WIDGET)
    customer_profile__description = forms.CharField(
        label="Who they are", required=False, widget=forms.Textarea(attrs={"rows": 2, "class": "vLargeTextField"})
    )
    customer_profile__interests = SimpleArrayField(
        forms.CharField(max_length=255), label="Interests", required=False, help_text="Separated by commas."
    )
    customer_profile__demographics = DocumentField(name="demographics", label="Demographics")
    customer_profile__persona = DocumentField(name="persona", label="Persona")
    brand_guidelines__brand_name = forms.CharField(label="Brand name", max_length=255, widget=NAME_WIDGET)
    brand_guidelines__industry = forms.CharField(label="Industry", max_length=255, required=False)
    brand_guidelines__brand_values = SimpleArrayField(
        forms.CharField(max_length=255), label="Brand values", required=False, help_text="Separated by commas."
    )
    brand_guidelines__high_level_guidelines = DocumentField(name="high_level_guidelines", label="Guidelines")
    budget__name = forms.CharField(label="Budget name", max_length=255, widget=NAME_WIDGET)
    budget__amount = forms.DecimalField(label="Amount", max_digits=15, decimal_places=2)
    budget__period = forms.ChoiceField(label="Period", choices=Budget.Period.choices, initial=Budget.Period.MONTHLY)
    budget__delivery_method = forms.ChoiceField(
        label="Delivery", choices=Budget.DeliveryMethod.choices, initial=Budget.DeliveryMethod.STANDARD
    )
    budget__start_date = forms.DateField(label="Starts", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    budget__end_date = forms.DateField(label="Ends", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    container__name = forms.CharField(
        label="Container name", max_length=255, initial="Default container", widget=NAME_WIDGET
    )

    # (title, fields) of each step, in order
    STEPS = (
        ("1. Who the campaigns are for", ("customer_profile",)),
        ("2. How the brand looks and speaks", ("brand_guidelines",)),
        ("3. What can be spent", ("budget",)),
        ("4. The default container", ("container",)),
    )

    def steps(self):
        return [
            {"title": title, "fields": [self[n] for n in self.fields if n.split("__")[0] in prefixes]}
            for title, prefixes in self.STEPS
        ]

    def parts(self) -> dict[str, dict]:
        found: dict[str, dict] = {part: {} for part in self.PARTS}
        for name, value in self.cleaned_data.items():
            part, _, field = name.partition("__")
            if part in found:
                found[part][field] = value
        return found

    def add_service_errors(self, exc: ValidationError | ApplicationError) -> None:
        """The service keys errors ``<part>.<field>``; the form's fields are ``<part>__<field>``."""
        if hasattr(exc, "error_dict"):
            for where, found in exc.message_dict.items():
                name = where.replace(".", "__", 1)
                if name in self.fields:
                    self.add_error(name, found)
                else:
                    self.add_error(None, [f"{where.replace('_', ' ')}: {m}" for m in found])
        else:
            add_service_errors(self, exc)


def _whole_number(value: str | None, *, field: str) -> int:
    """A number posted by the version history page (its buttons send them)."""
    try:
        return int(value or "")
    except ValueError:
        raise ValidationError({field: ["A whole number is required."]}) from None


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Deleted"), ("all", "All")]

    def choices(self, changelist):
        value = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "no":
            return queryset.filter(deleted_at__isnull=True)
        if value == "yes":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


# The accounts with records, read with a loose scan of the ``account_id`` index.
AccountFilter = indexed_values_filter("account_id", title="account")


class VersionedRecordAdmin(admin.ModelAdmin):
    form = NotesForm
    show_full_result_count = False
    list_per_page = 50
    formfield_overrides = {models.JSONField: {"form_class": PrettyJSONField, "widget": JSON_WIDGET}}
    # A record that does not exist yet has no version, history or author to show.
    hidden_on_add = ("version", "version_history", "created_by", "updated_by", "deleted_at")
    readonly_fields = (
        "version",
        "version_history",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "deleted_at",
    )
    audit_fieldset = (
        "Audit",
        {
            "fields": (
                "version",
                "version_history",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
                "deleted_at",
            )
        },
    )
    actions = ["soft_delete_selected", "restore_selected", "hard_delete_selected"]
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return self.model.all_objects.select_related(*self.list_select_related or ())

    def get_search_results(self, request, queryset, search_term):
        """A container's autocomplete offers only live records of the container's account."""
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        if is_autocomplete(request):
            account = request.GET.get("account_id", "").strip()
            queryset = queryset.filter(deleted_at__isnull=True, account_id=account) if account else queryset.none()
        return queryset, distinct

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.CharField | models.TextField) and db_field.name in ("name", "brand_name"):
            kwargs["widget"] = NAME_WIDGET
        if db_field.name == "description":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField"})
        if db_field.name in ("interests", "brand_values", "campaign_ids"):
            kwargs["widget"] = forms.TextInput(attrs={"class": "vTextField"})
            kwargs["help_text"] = "Separated by commas."
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_actions(self, request):
        found = super().get_actions(request)
        found.pop("delete_selected", None)
        return found

    def has_delete_permission(self, request, obj=None):
        # The delete page deletes for good: only records already soft-deleted.
        return super().has_delete_permission(request, obj) and (obj is None or obj.deleted_at is not None)

    # -------------------------------------------------------------- saving via services

    def save_model(self, request, obj, form, change):
        data_fields = self.model.data_fields
        if change:
            changes = {f: form.cleaned_data[f] for f in form.changed_data if f in data_fields}
            record = services.record_update(
                record=obj, changes=changes, expected_version=form.cleaned_data["expected_version"], actor=request.user
            )
        else:
            data = {f: form.cleaned_data[f] for f in data_fields if f in form.cleaned_data}
            record = services.record_create(
                model=self.model, account_id=form.cleaned_data["account_id"], data=data, actor=request.user
            )
        obj.pk = record.pk
        obj.version = record.version
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Nothing related is written from the console: the inlines are read-only (their formsets
        are only read, for the change message)."""
        for formset in formsets:
            formset.save(commit=False)

    def delete_model(self, request, obj):
        services.record_hard_delete(record=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for record in queryset:
            services.record_hard_delete(record=record, actor=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ApplicationError, ValidationError) as exc:  # a concurrent change between validation and saving
            self.message_user(request, error_message(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # ---------------------------------------------------------------------- actions

    @admin.action(description="Delete selected (soft: can be restored)", permissions=["change"])
    def soft_delete_selected(self, request, queryset):
        self._each(request, queryset.filter(deleted_at__isnull=True), "deleted", services.record_soft_delete)

    @admin.action(description="Restore selected", permissions=["change"])
    def restore_selected(self, request, queryset):
        self._each(request, queryset.filter(deleted_at__isnull=False), "restored", services.record_restore)

    @admin.action(description="Delete selected for good (deleted records only)", permissions=["delete"])
    def hard_delete_selected(self, request, queryset):
        self._each(request, queryset.filter(deleted_at__isnull=False), "deleted for good", services.record_hard_delete)

    def _each(self, request, queryset, verb: str, service) -> None:
        done = 0
        for record in queryset:
            try:
                service(record=record, actor=request.user)
                done += 1
            except RestrictedError:
                self.message_user(
                    request, f"“{record}” was not {verb}: still referenced by a container", messages.ERROR
                )
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, f"“{record}” was not {verb}: {error_message(exc)}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} record(s) {verb}.", messages.SUCCESS)

    # -------------------------------------------------------------- version history

    @admin.display(description="History")
    def version_history(self, obj):
        if obj._state.adding:
            return "—"
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_versions", args=[obj.pk])
        return format_html('<a href="{}">Version history and revert</a>', url)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "<uuid:object_id>/versions/",
                self.admin_site.admin_view(self.versions_view),
                name="{}_{}_versions".format(*info),
            ),
            *super().get_urls(),
        ]

    def versions_view(self, request, object_id):
        record = get_object_or_404(self.model.all_objects, pk=object_id)
        if not self.has_view_or_change_permission(request, record):
            raise DjangoPermissionDenied
        can_revert = self.has_change_permission(request, record) and record.deleted_at is None
        if request.method == "POST":
            if not can_revert:
                raise DjangoPermissionDenied
            try:
                services.record_revert(
                    record=record,
                    to_version=_whole_number(request.POST.get("to_version"), field="to_version"),
                    expected_version=_whole_number(request.POST.get("expected_version"), field="expected_version"),
                    actor=request.user,
                )
                self.message_user(request, "Reverted: the old data is now a new version.", messages.SUCCESS)
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, f"Not reverted: {error_message(exc)}", messages.ERROR)
            return HttpResponseRedirect(request.path)
        versions = [
            {"version": v, "pretty": json.dumps(v.data, indent=2, ensure_ascii=False, sort_keys=True)}
            for v in selectors.record_versions(record=record)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Version history: {record}",
            "record": record,
            "versions": versions,
            "can_revert": can_revert,
        }
        return TemplateResponse(request, "admin/profiles/versions.html", context)


@admin.register(TargetCustomerProfile)
class TargetCustomerProfileAdmin(VersionedRecordAdmin):
    form = TargetCustomerProfileForm
    list_display = ("name", "account_id", "is_default", "is_active", "version", "updated_at", "deleted_at")
    list_filter = (DeletedFilter, AccountFilter, "is_active", "is_default")
    search_fields = ("name", "account_id", "=id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "account_id",
                    "name",
                    "description",
                    "interests",
                    "is_default",
                    "is_active",
                    "expected_version",
                )
            },
        ),
        ("Demographics", {"fields": ("demographics",), "classes": DOCUMENTS}),
        (
            "Personality (Big Five percentiles of the customers' latest results; empty = no limit)",
            {"fields": [(f"{prefix}_min", f"{prefix}_max") for prefix, _ in TRAITS.values()]},
        ),
        ("Behaviour", {"fields": ("behavior",), "classes": DOCUMENTS}),
        ("Persona", {"fields": ("persona",), "classes": DOCUMENTS}),
        ("Notes", {"fields": ("metadata",), "classes": DOCUMENTS}),
        VersionedRecordAdmin.audit_fieldset,
    )

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**setup_link(request), **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Other apps' panels under the form (``registries.profile_console``: the audience)."""
        panels = []
        profile = self.get_object(request, object_id)
        if profile is not None:
            for panel in sorted(registries.profile_console.entries(), key=lambda p: p.order):
                context = panel.context(profile=profile, request=request)
                if context is not None:
                    panels.append((panel.template, context))
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "profile_panels": panels})


@admin.register(BrandGuidelines)
class BrandGuidelinesAdmin(VersionedRecordAdmin):
    form = BrandGuidelinesForm
    list_display = ("brand_name", "account_id", "industry", "detail_level", "is_active", "version", "updated_at")
    list_filter = (DeletedFilter, AccountFilter, "detail_level", "is_active", indexed_values_filter("industry"))
    search_fields = ("brand_name", "account_id", "industry", "=id")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "account_id",
                    "brand_name",
                    "industry",
                    "brand_values",
                    "detail_level",
                    "is_default",
                    "is_active",
                    "expected_version",
                )
            },
        ),
        ("High-level guidelines", {"fields": ("high_level_guidelines",), "classes": DOCUMENTS}),
        (
            "Full style guide",
            {
                "fields": ("full_style_guide",),
                "classes": DOCUMENTS,
                "description": "Needed when the detail level is “Full”; leave it empty otherwise.",
            },
        ),
        ("Notes", {"fields": ("metadata",), "classes": DOCUMENTS}),
        VersionedRecordAdmin.audit_fieldset,
    )


class AlertFiringInline(admin.TabularInline):
    model = BudgetAlertFiring
    fields = ("threshold", "percentage_spent", "amount_spent", "fired_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Budget)
class BudgetAdmin(VersionedRecordAdmin):
    list_display = (
        "name",
        "account_id",
        "status",
        "period",
        "amount",
        "amount_spent",
        "spend_bar",
        "alerts_fired",
        "version",
    )
    list_filter = (DeletedFilter, AccountFilter, "status", "period", "delivery_method", "budget_type", "is_shared")
    search_fields = ("name", "account_id", "=id")
    inlines = [AlertFiringInline]
    readonly_fields = (*VersionedRecordAdmin.readonly_fields, "amount_spent", "amount_remaining", "spend_bar", "pacing")
    hidden_on_add = (*VersionedRecordAdmin.hidden_on_add, "amount_spent", "spend_bar", "pacing")
    fieldsets = (
        (None, {"fields": ("account_id", "name", "status", "budget_type", "is_default", "expected_version")}),
        ("Money", {"fields": ("amount", "amount_spent", "amount_remaining", "spend_bar", "pacing", "alerts")}),
        ("Delivery", {"fields": ("delivery_method", "period", "start_date", "end_date", "is_shared", "campaign_ids")}),
        ("Notes", {"fields": ("metadata",), "classes": DOCUMENTS}),
        VersionedRecordAdmin.audit_fieldset,
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("alert_firings")

    @admin.display(description="spent", ordering="percentage_spent")
    def spend_bar(self, obj):
        if obj._state.adding:
            return "—"
        percentage = obj.percentage_spent or 0
        return format_html(
            '<meter min="0" max="100" low="80" high="99.99" optimum="0" value="{}" '
            'title="{}% spent" aria-label="{}% spent"></meter> {}%',
            min(percentage, 100),
            percentage,
            percentage,
            percentage,
        )

    @admin.display(description="alerts fired")
    def alerts_fired(self, obj):
        fired = [] if obj._state.adding else list(obj.alert_firings.all())
        if not fired:
            return "—"
        return format_html_join(
            ", ", "{}% ({})", ((format(f.threshold.normalize(), "f"), f"{f.fired_at:%Y-%m-%d}") for f in fired)
        )

    @admin.display(description="pacing")
    def pacing(self, obj):
        if obj._state.adding:
            return "—"
        p = services.budget_pacing(budget=obj)
        return format_html(
            "{} → {}: expected {} by now, spent {} ({})",
            p.period_start,
            p.period_end,
            p.expected_spend,
            p.actual_spend,
            p.status.replace("_", " "),
        )


@admin.register(ProfileContainer)
class ProfileContainerAdmin(VersionedRecordAdmin):
    list_display = ("name", "account_id", "status", "is_default", "complete", "contents")
    list_filter = (DeletedFilter, AccountFilter, "status", "is_default", "is_primary", "is_complete")
    list_select_related = ("customer_profile", "brand_guidelines", "budget")
    search_fields = ("name", "account_id", "=id")
    autocomplete_fields = ("customer_profile", "brand_guidelines", "budget")
    readonly_fields = (*VersionedRecordAdmin.readonly_fields, "complete", "missing")
    hidden_on_add = (*VersionedRecordAdmin.hidden_on_add, "complete", "missing")
    fieldsets = (
        (
            None,
            {"fields": ("account_id", "name", "description", "status", "is_default", "is_primary", "expected_version")},
        ),
        (
            "Profiles",
            {
                "fields": ("customer_profile", "brand_guidelines", "budget", "complete", "missing"),
                "description": "Each list offers the live records of this container's account only.",
            },
        ),
        ("Notes", {"fields": ("metadata",), "classes": DOCUMENTS}),
        VersionedRecordAdmin.audit_fieldset,
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.autocomplete_fields:
            kwargs["widget"] = AccountAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="complete", boolean=True, ordering="is_complete")
    def complete(self, obj):
        return None if obj._state.adding else obj.is_complete

    @admin.display(description="missing")
    def missing(self, obj):
        if obj._state.adding:
            return "—"
        return ", ".join(obj.missing_profiles or []) or "—"

    @admin.display(description="profile · guidelines · budget")
    def contents(self, obj):
        parts = [obj.customer_profile, obj.brand_guidelines, obj.budget]
        shown = [str(p) if p is not None else "—" for p in parts]
        missing = ", ".join(m.replace("_", " ") for m in obj.missing_profiles or [])
        if missing:
            return format_html('{} <span class="fr-muted">(missing: {})</span>', " · ".join(shown), missing)
        return " · ".join(shown)

    # ------------------------------------------------------- first set-up of an account

    def get_urls(self):
        return [
            path("setup/", self.admin_site.admin_view(self.setup_view), name="profiles_profilecontainer_setup"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**setup_link(request), **(extra_context or {})})

    def setup_view(self, request):
        """Seed 003's first-time user: the default container and its three parts in one guided form."""
        if not may_set_up(request.user):
            raise DjangoPermissionDenied
        account = (request.POST.get("account_id") or request.GET.get("account_id") or "").strip()
        status = None
        if account and "/" not in account:
            status = selectors.account_profile_status(account_id=account)
        form = FirstSetupForm(request.POST or None, initial={"account_id": account})
        if request.method == "POST" and form.is_valid():
            try:
                container = services.account_first_setup(
                    account_id=form.cleaned_data["account_id"], **form.parts(), actor=request.user
                )
            except (ValidationError, ApplicationError) as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    f"“{container.account_id}” is set up: its default container “{container}” holds the target "
                    "customer profile, the brand guidelines and the budget.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:profiles_profilecontainer_change", args=[container.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Set up an account",
            "opts": self.model._meta,
            "form": form,
            "account": account,
            "status": status,
            "media": self.media + form.media,
            "existing_url": f"{reverse('admin:profiles_profilecontainer_changelist')}?account_id={account}",
        }
        return TemplateResponse(request, "admin/profiles/profilecontainer/setup.html", context)


@admin.register(CampaignProfileUsage)
class CampaignProfileUsageAdmin(admin.ModelAdmin):
    """Usage is recorded by the campaign tools (API); the console reads it and can end it (an action)."""

    list_display = ("campaign_id", "account_id", "usage_type", "container", "is_active", "updated_at")
    list_filter = ("usage_type", "is_active")
    search_fields = ("campaign_id", "account_id")
    list_select_related = ("container",)
    raw_id_fields = ("container", "customer_profile", "brand_guidelines", "budget")
    readonly_fields = (
        "campaign_id",
        "account_id",
        "usage_type",
        "container",
        "customer_profile",
        "brand_guidelines",
        "budget",
        "is_active",
        "metadata",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )
    show_full_result_count = False
    actions = ["deactivate_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change permission allows the action on the list; a usage's own page is read-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="End selected usages", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        count = 0
        for usage in queryset.filter(is_active=True):
            services.campaign_usage_deactivate(usage=usage, actor=request.user)
            count += 1
        self.message_user(request, f"{count} usage(s) ended.", messages.SUCCESS)


@admin.register(ProfileVersion)
class ProfileVersionAdmin(ReadOnlyAdmin):
    """Read-only: every version of every campaign record."""

    list_display = ("profile_type", "profile_id", "version", "created_at", "created_by")
    list_filter = ("profile_type",)
    search_fields = ("=profile_id",)
    list_select_related = ("created_by",)
    readonly_fields = ("profile_type", "profile_id", "version", "created_at", "created_by", "data")
