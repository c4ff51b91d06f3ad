"""Operator console: customers, staff, channels, brands, API tokens."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken, Brand, Channel, Customer, StaffUser, User
from focusedroom import registries
from focusedroom.admin_tools import EstimatedCountPaginator

PERSON_READONLY = ("action_token", "created_at", "updated_at", "last_login", "email_verified_at")


class PersonCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class PersonChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PersonAdminBase(DjangoUserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    ordering = ("-created_at",)
    search_fields = ("email", "name", "first_name", "last_name")
    list_select_related = ("channel",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # a million people: no COUNT(*) per page view
    readonly_fields = PERSON_READONLY
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


def _extensions() -> list:
    return registries.customer_console.entries()


@admin.register(Customer)
class CustomerAdmin(PersonAdminBase):
    """Customers; other apps add inlines, columns and actions through ``registries.customer_console``."""

    list_display_base = (
        "email",
        "name",
        "channel",
        "career_stage",
        "marketing_opt_in",
        "is_email_verified",
        "created_at",
    )
    list_display = list_display_base
    list_filter = ("channel", "career_stage", "marketing_opt_in", "is_email_verified", "kit_state", "created_at")

    def get_list_display(self, request):
        extra = [column for ext in _extensions() for column in ext.list_display]
        return (*self.list_display_base[:4], *extra, *self.list_display_base[4:])

    def get_inlines(self, request, obj):
        return [inline for ext in _extensions() for inline in ext.inlines]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for ext in _extensions():
            if ext.annotate is not None:
                queryset = ext.annotate(queryset)
        return queryset

    def _get_base_actions(self):
        base = list(super()._get_base_actions())
        return base + [self.get_action(action) for ext in _extensions() for action in ext.actions]

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "first_name", "last_name", "phone_number", "age", "profession")}),
        ("Goals", {"fields": ("career_stage", "purpose", "channel", "country_code", "time_zone")}),
        (
            "Consent and email",
            {
                "fields": (
                    "marketing_opt_in",
                    "marketing_opt_in_at",
                    "is_email_verified",
                    "email_verified_at",
                    "last_verification_email_sent_at",
                    "email_bounced_at",
                    "email_spam_reported_at",
                    "kit_subscriber_id",
                    "kit_state",
                )
            },
        ),
        ("Status", {"fields": ("is_active", "is_guest", "age_verified_at", "deleted_at", "action_token")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )


@admin.register(StaffUser)
class StaffUserAdmin(PersonAdminBase):
    list_display = ("email", "name", "is_superuser", "is_active", "last_login")
    list_filter = ("is_superuser", "is_active", "groups")
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "first_name", "last_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.is_staff = True
        super().save_model(request, obj, form, change)


@admin.register(User)
class PersonLookupAdmin(PersonAdminBase):
    """Every person, for autocomplete widgets of other models; hidden from the index."""

    list_display = ("email", "name", "is_staff", "created_at")
    fieldsets = CustomerAdmin.fieldsets  # Django's UserAdmin default names username/date_joined

    def get_model_perms(self, request):
        return {}


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "description")


class BrandForm(forms.ModelForm):
    new_customer_io_api_key = forms.CharField(
        label="Customer.io API key",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted and never shown. Leave empty to keep the current key.",
    )
    clear_customer_io_api_key = forms.BooleanField(label="Remove the stored API key", required=False)

    class Meta:
        model = Brand
        fields = ("name", "slug", "customer_io_site_id", "settings", "is_active")

    def save(self, commit=True):
        brand = super().save(commit=False)
        if self.cleaned_data.get("clear_customer_io_api_key"):
            brand.customer_io_api_key = ""
        elif self.cleaned_data.get("new_customer_io_api_key"):
            brand.customer_io_api_key = self.cleaned_data["new_customer_io_api_key"]
        if commit:
            brand.save()
        return brand


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    form = BrandForm
    list_display = ("name", "slug", "is_active", "customer_io_configured", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")

    @admin.display(boolean=True, description="Customer.io configured")
    def customer_io_configured(self, obj):
        return obj.has_customer_io_credentials


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "prefix", "name", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token)
        self.message_user(request, f"Revoked at {timezone.now():%Y-%m-%d %H:%M}.", messages.SUCCESS)
