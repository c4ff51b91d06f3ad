"""Operator console: event log and outbox (read-only)."""

from django.contrib import admin

from engagement.models import Event, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event_type", "user", "anonymous_id", "points_awarded", "device_type")
    list_filter = ("event_type", "device_type")
    search_fields = ("user__email", "anonymous_id")
    list_select_related = ("user",)
    raw_id_fields = ("user", "product")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "destination", "action", "event_name", "user", "status", "attempt_count")
    list_filter = ("status", "destination", "action")
    search_fields = ("event_name", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
