"""Operator console: email verification links (read-only) and custom field definitions."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.custom_fields import custom_field_options_clean
from accounts.models import CustomField, EmailVerificationToken


@admin.register(EmailVerificationToken)
class EmailVerificationTokenAdmin(admin.ModelAdmin):
    """Read-only: only the token's hash is stored, the link itself is never shown."""

    list_display = ("email", "user", "created_at", "expires_at", "is_used", "used_at")
    list_filter = ("is_used", "created_at")
    search_fields = ("email", "user__email", "token")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "user",
        "email",
        "token",
        "created_at",
        "expires_at",
        "is_used",
        "used_at",
        "experiment_id",
        "variant_id",
        "impression_id",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CustomFieldForm(forms.ModelForm):
    class Meta:
        model = CustomField
        fields = (
            "brand",
            "field_key",
            "field_label",
            "field_type",
            "field_options",
            "is_required",
            "field_order",
            "is_active",
        )

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["field_options"] = custom_field_options_clean(
                field_type=cleaned.get("field_type"), options=cleaned.get("field_options")
            )
        except ValidationError as exc:
            self.add_error(None, exc)  # a field -> messages dict: each message lands on its field
        return cleaned


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    form = CustomFieldForm
    list_display = ("field_label", "field_key", "brand", "field_type", "is_required", "field_order", "is_active")
    list_filter = ("brand", "field_type", "is_active", "is_required")
    list_editable = ("field_order", "is_active")
    search_fields = ("field_key", "field_label")
    list_select_related = ("brand",)
    ordering = ("brand__name", "field_order", "id")
    readonly_fields = ("created_at", "updated_at")
