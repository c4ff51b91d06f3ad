"""Operator console: outbox monitor, webhook log, AI profiles.

Lists show what an operator acts on, with ages in words ("24 minutes ago", the exact time on
hover); everything else is on the record's own page.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from focusedroom import tasks
from focusedroom.admin_tools import ReadOnlyAdmin, humanize_age, indexed_values_filter
from focusedroom.forms import add_service_errors
from integrations import selectors, services
from integrations.ai_profiles import CHURN_BANDS
from integrations.models import AIProfile, AudienceSync, OutboxMessage, WebhookLog, WebhookRefusal


def age(moment: datetime | None) -> str:
    """ "24 minutes ago", with the exact time in a tooltip and in machine-readable form."""
    if moment is None:
        return "—"
    return format_html(
        '<time datetime="{}" title="{}">{} ago</time>',
        moment.isoformat(),
        date_format(timezone.localtime(moment), "DATETIME_FORMAT"),
        humanize_age(timezone.now() - moment),
    )


@admin.register(OutboxMessage)
class OutboxMonitorAdmin(ReadOnlyAdmin):
    """The outbox monitor: health summary above the list, failed rows, a retry action."""

    change_list_template = "admin/integrations/outboxmessage/change_list.html"
    list_display = ("message", "user", "status", "queued", "attempt_count", "waiting", "short_error")
    list_display_links = ("message",)
    list_filter = ("status", "destination", "action", "is_marketing")
    search_fields = ("event_name", "user__email")
    list_select_related = ("user", "brand")
    raw_id_fields = ("user",)
    actions = ["retry_failed"]
    ordering = ("-created_at",)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("integrations.change_outboxmessage")

    @admin.action(description="Retry the selected failed messages", permissions=["retry"])
    def retry_failed(self, request, queryset: QuerySet):
        count = services.outbox_retry(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} failed message(s) queued again.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        summary = selectors.outbox_summary()
        extra_context = {
            **(extra_context or {}),
            "outbox": summary,
            "oldest_pending": humanize_age(summary.oldest_pending_age) if summary.oldest_pending_age else "",
        }
        return super().changelist_view(request, extra_context=extra_context)

    def get_queryset(self, request):
        return selectors.with_delivery_readiness(super().get_queryset(request))

    @admin.display(description="message", ordering="event_name")
    def message(self, obj: OutboxMessage) -> str:
        return f"{obj.get_destination_display()} {obj.action}: {obj.event_name}"

    @admin.display(description="queued", ordering="created_at")
    def queued(self, obj: OutboxMessage) -> str:
        return age(obj.created_at)

    @admin.display(description="waiting")
    def waiting(self, obj: OutboxMessage) -> str:
        return selectors.outbox_waiting_reason(obj)

    @admin.display(description="last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error


@admin.register(WebhookLog)
class WebhookLogAdmin(ReadOnlyAdmin):
    list_display = (
        "event_id",
        "received",
        "source",
        "webhook_type",
        "user",
        "processed_successfully",
        "replay_count",
        "short_error",
    )
    list_filter = ("source", indexed_values_filter("webhook_type"), "processed_successfully", "is_duplicate")
    search_fields = ("event_id", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"

    @admin.display(description="received", ordering="created_at")
    def received(self, obj: WebhookLog) -> str:
        return age(obj.created_at)

    @admin.display(description="error")
    def short_error(self, obj: WebhookLog) -> str:
        text = obj.error_message or ""
        return (text[:80] + "…") if len(text) > 80 else text


class ChurnBandFilter(admin.SimpleListFilter):
    title = "churn risk"
    parameter_name = "churn_risk"

    def lookups(self, request, model_admin):
        return [(band, f"{band} ({low:g}–{min(high, 1):g})") for band, (low, high) in CHURN_BANDS.items()]

    def queryset(self, request, queryset):
        if self.value() in CHURN_BANDS:
            low, high = CHURN_BANDS[self.value()]
            return queryset.filter(churn_probability__gte=low, churn_probability__lt=high)
        return queryset


@admin.register(AIProfile)
class AIProfileAdmin(ReadOnlyAdmin):
    list_display = (
        "user",
        "engagement_score",
        "churn_probability",
        "purchase_probability",
        "predicted_lifetime_value",
        "recommended_segment",
        "next_best_action",
        "calculated",
        "synced",
    )
    list_filter = (indexed_values_filter("recommended_segment"), ChurnBandFilter, "next_best_action")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-churn_probability", "user_id")

    @admin.display(description="calculated", ordering="calculated_at")
    def calculated(self, obj: AIProfile) -> str:
        return age(obj.calculated_at)

    @admin.display(description="synced", ordering="last_synced_at")
    def synced(self, obj: AIProfile) -> str:
        return age(obj.last_synced_at)


@admin.register(WebhookRefusal)
class WebhookRefusalAdmin(ReadOnlyAdmin):
    """Deliveries refused before their body was read: why, from where, when, how many."""

    list_display = (
        "last_seen_at",
        "source",
        "reason",
        "source_address_shown",
        "count",
        "first_seen_at",
        "last_message",
    )
    list_filter = ("source", "reason")
    search_fields = ("source_address",)
    date_hierarchy = "hour"
    ordering = ("-last_seen_at",)

    @admin.display(description="source address", ordering="source_address")
    def source_address_shown(self, obj: WebhookRefusal) -> str:
        return obj.source_address or "other addresses"


class AudienceSyncForm(forms.ModelForm):
    class Meta:
        model = AudienceSync
        fields = ("profile", "to_customerio", "to_kit", "key")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields[
            "key"
        ].help_text = (
            "The Customer.io attribute and Kit tag; chosen from the profile's name when left empty, then kept."
        )
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.fields["profile"].disabled = True

    def _post_clean(self):
        """The service's own check (profile live, key well-formed and free); its refusal shows by its field."""
        profile = self.cleaned_data.get("profile")
        if profile is None:
            return
        try:
            services.audience_sync_check(profile=profile, key=self.cleaned_data.get("key") or "")
        except ValidationError as exc:
            add_service_errors(self, exc)


@admin.register(AudienceSync)
class AudienceSyncAdmin(admin.ModelAdmin):
    """Where each profile's audience is synced, and how the last sync went; "Sync now" queues the diffs."""

    form = AudienceSyncForm
    list_display = ("key", "profile", "to_customerio", "to_kit", "synced", "members_customerio", "members_kit", "error")
    list_select_related = ("profile",)
    list_filter = ("to_customerio", "to_kit")
    search_fields = ("key", "profile__name")
    raw_id_fields = ("profile",)
    readonly_fields = ("last_synced_at", "last_entered", "last_left", "members_customerio", "members_kit", "last_error")
    actions = ["sync_now"]
    show_full_result_count = False

    @admin.display(description="last sync")
    def synced(self, obj):
        return age(obj.last_synced_at)

    @admin.display(description="error")
    def error(self, obj):
        return obj.last_error[:80]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("integrations.read_audience") or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return request.user.has_perm("integrations.sync_audience")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("integrations.sync_audience")

    def has_delete_permission(self, request, obj=None):
        return False

    def has_sync_permission(self, request) -> bool:
        return request.user.has_perm("integrations.sync_audience")

    def get_changeform_initial_data(self, request):
        return {"profile": request.GET.get("profile")} if request.GET.get("profile") else {}

    def save_model(self, request, obj, form, change):
        form.instance = services.audience_sync_configure(
            profile=form.cleaned_data["profile"],
            to_customerio=form.cleaned_data["to_customerio"],
            to_kit=form.cleaned_data["to_kit"],
            key=form.cleaned_data.get("key") or "",
        )

    @admin.action(description="Sync the selected audiences now (only who entered or left)", permissions=["sync"])
    def sync_now(self, request, queryset: QuerySet):
        keys = []
        with transaction.atomic():
            for sync in queryset:
                tasks.defer(
                    "integrations.audience_sync", queueing_lock=f"audience_sync:{sync.pk}", profile_id=str(sync.pk)
                )
                keys.append(sync.key)
        self.message_user(
            request, f"Sync queued for {', '.join(keys)}: the page shows its counts when it has run.", messages.SUCCESS
        )
