"""Operator console: outbox monitor, webhook log, AI profiles."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet

from focusedroom.admin_tools import ReadOnlyAdmin, indexed_values_filter
from integrations import selectors, services
from integrations.ai_profiles import CHURN_BANDS
from integrations.models import AIProfile, OutboxMessage, WebhookLog, WebhookRefusal


@admin.register(OutboxMessage)
class OutboxMonitorAdmin(ReadOnlyAdmin):
    """The outbox monitor: health summary above the list, failed rows, a retry action."""

    change_list_template = "admin/integrations/outboxmessage/change_list.html"
    list_display = (
        "id",
        "created_at",
        "destination",
        "action",
        "event_name",
        "user",
        "brand",
        "status",
        "is_marketing",
        "priority",
        "attempt_count",
        "waiting",
        "short_error",
    )
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
        extra_context = {**(extra_context or {}), "outbox": selectors.outbox_summary()}
        return super().changelist_view(request, extra_context=extra_context)

    def get_queryset(self, request):
        return selectors.with_delivery_readiness(super().get_queryset(request))

    @admin.display(description="waiting")
    def waiting(self, obj: OutboxMessage) -> str:
        return selectors.outbox_waiting_reason(obj)

    @admin.display(description="last error")
    def short_error(self, obj: OutboxMessage) -> str:
        return (obj.last_error[:120] + "…") if len(obj.last_error) > 120 else obj.last_error


@admin.register(WebhookLog)
class WebhookLogAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "source",
        "webhook_type",
        "event_id",
        "user",
        "processed_successfully",
        "replay_count",
        "error_message",
    )
    list_filter = ("source", indexed_values_filter("webhook_type"), "processed_successfully", "is_duplicate")
    search_fields = ("event_id", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"


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
        "calculated_at",
        "last_synced_at",
    )
    list_filter = (indexed_values_filter("recommended_segment"), ChurnBandFilter, "next_best_action")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-churn_probability", "user_id")


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
