"""Operator console: customers, staff, channels, brands, API tokens.

Every save and action calls an ``accounts.services`` function with the console's
``RequestContext`` (the staff member is the actor), so a console edit has the same effects
as the person's own act: withdrawing consent here queues the same Customer.io and Kit rows
as the unsubscribe link. Support never sets a password (they send a reset email), never
gives consent, never marks an address verified (they resend the link), and never hard-deletes
a person (soft delete and restore, or a GDPR erasure through ``manage.py erase_person``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services, verification
from accounts.models import ApiToken, Brand, Channel, Customer, PersonChange, StaffUser, User
from focusedroom import registries
from focusedroom.admin_tools import EstimatedCountPaginator, ReadOnlyAdmin
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors, error_message


def console_context(request) -> RequestContext:
    return RequestContext.from_request(request, source="console")


class PersonAdminBase(DjangoUserAdmin):
    ordering = ("-created_at",)
    search_fields = ("email", "name", "first_name", "last_name")
    list_select_related = ("channel",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # a million people: no COUNT(*) per page view

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "user_permissions":
            # Each permission is shown as "app | model | name": its content type comes with it, not one
            # query per permission (about 300), as Django's own group admin does for its permissions.
            queryset = kwargs.get("queryset", db_field.remote_field.model.objects)
            kwargs["queryset"] = queryset.select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # people are soft-deleted or erased, never deleted


def _extensions() -> list:
    return registries.customer_console.entries()


class CustomerChangeForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = (*services.STAFF_EDITABLE, "marketing_opt_in")
        help_texts = {
            "marketing_opt_in": "Untick to unsubscribe the person everywhere (Customer.io and Kit). "
            "Only the person can give consent."
        }

    def _post_clean(self):
        """Validate with the service's rules (the one set of rules) before the model's own checks,
        so staff read the service's clear message; ``save_model`` then saves through the service."""
        if self.errors or self.instance.pk is None:
            return
        self.service_data = {f: self.cleaned_data[f] for f in self.changed_data if f in self.cleaned_data}
        original = User.all_objects.get(pk=self.instance.pk)
        if self.service_data.get("marketing_opt_in") and not original.marketing_opt_in:
            self.add_error("marketing_opt_in", "Only the person can give marketing consent.")
        try:
            services.clean_profile(
                {k: v for k, v in self.service_data.items() if k != "marketing_opt_in"}, keep_blanks=True
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        if not self.errors:
            super()._post_clean()


@admin.register(Customer)
class CustomerAdmin(PersonAdminBase):
    """Customers; other apps add inlines, columns and actions through ``registries.customer_console``."""

    form = CustomerChangeForm
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
    readonly_fields = (
        "email",
        "channel",
        "marketing_opt_in_at",
        "is_email_verified",
        "email_verified_at",
        "last_verification_email_sent_at",
        "email_bounced_at",
        "email_spam_reported_at",
        "kit_subscriber_id",
        "kit_state",
        "is_active",
        "deleted_at",
        "last_login",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("email", "channel")}),
        ("Profile", {"fields": ("name", "first_name", "last_name", "phone_number", "age", "profession")}),
        ("Goals", {"fields": ("career_stage", "purpose", "country_code", "time_zone")}),
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
        ("Status", {"fields": ("is_active", "deleted_at")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    actions = ["send_password_reset", "send_verification_email", "soft_delete", "restore"]

    def get_queryset(self, request):
        queryset = Customer.all_objects.filter(is_staff=False).select_related("channel")
        for ext in _extensions():
            if ext.annotate is not None:
                queryset = ext.annotate(queryset)
        return queryset

    def get_list_display(self, request):
        extra = [column for ext in _extensions() for column in ext.list_display]
        return (*self.list_display_base[:4], *extra, *self.list_display_base[4:])

    def get_list_filter(self, request):
        return (*self.list_filter, DeletedFilter)

    def get_inlines(self, request, obj):
        return [inline for ext in _extensions() for inline in ext.inlines]

    def _get_base_actions(self):
        base = list(super()._get_base_actions())
        return base + [self.get_action(action) for ext in _extensions() for action in ext.actions]

    def has_add_permission(self, request):
        return False  # customers arrive through the test, sign-up and imports

    def user_change_password(self, request, id, form_url=""):
        raise DjangoPermissionDenied("Staff never set a member's password; send a password-reset email.")

    def save_model(self, request, obj, form, change):
        obj_saved = services.person_update_by_staff(
            user=obj, data=getattr(form, "service_data", {}), context=console_context(request)
        )
        obj.refresh_from_db()
        return obj_saved

    def _each(self, request, queryset, service, done: str, **kwargs) -> None:
        context = console_context(request)
        ok, refused = 0, []
        for person in queryset:
            try:
                service(user=person, context=context, **kwargs)
                ok += 1
            except (ValidationError, ApplicationError) as exc:
                refused.append(f"{person.email}: {error_message(exc)}")
        if ok:
            self.message_user(request, f"{done}: {ok}.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description="Email a password-reset link", permissions=["change"])
    def send_password_reset(self, request, queryset):
        self._each(request, queryset, services.person_send_password_reset, "Password-reset emails sent")

    @admin.action(description="Resend the email-verification link", permissions=["change"])
    def send_verification_email(self, request, queryset):
        def send(*, user, context):
            if user.is_email_verified:
                raise ValidationError("The address is already verified.")
            if not verification.verification_send(user=user, context=context):
                raise ValidationError("A link was sent a moment ago; try again later.")

        self._each(request, queryset, send, "Verification links sent")

    @admin.action(description="Delete (hide everywhere, stop marketing; can be restored)", permissions=["change"])
    def soft_delete(self, request, queryset):
        self._each(request, queryset, services.person_soft_delete, "Deleted", reason="console")

    @admin.action(description="Restore deleted people", permissions=["change"])
    def restore(self, request, queryset):
        self._each(request, queryset, services.person_restore, "Restored")


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


class StaffCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class StaffChangeForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("email", "name", "first_name", "last_name", "is_active", "is_superuser", "groups", "user_permissions")


class StaffPasswordForm(AdminPasswordChangeForm):
    """A staff member's console password, set through the service (which ends their other sessions)."""

    def save(self, commit=True):
        services.person_set_password(
            user=self.user, password=self.cleaned_data["password1"], context=self.console_context
        )
        return self.user


@admin.register(StaffUser)
class StaffUserAdmin(PersonAdminBase):
    form = StaffChangeForm
    add_form = StaffCreationForm
    change_password_form = StaffPasswordForm
    list_display = ("email", "name", "is_superuser", "is_active", "last_login")
    list_filter = ("is_superuser", "is_active", "groups")
    filter_horizontal = ("groups", "user_permissions")
    readonly_fields = ("last_login", "created_at", "updated_at")
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)
    fieldsets = (
        (None, {"fields": ("email",)}),
        ("Profile", {"fields": ("name", "first_name", "last_name")}),
        ("Access", {"fields": ("is_active", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return StaffUser.objects.all()

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def user_change_password(self, request, id, form_url=""):
        self.change_password_form.console_context = console_context(request)
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        context = console_context(request)
        if change:
            data = {f: form.cleaned_data[f] for f in form.changed_data if f not in ("groups", "user_permissions")}
            saved = services.staff_save(user=obj, data=data, context=context)
        else:
            saved = services.staff_save(
                user=None,
                data={"email": form.cleaned_data["email"], "name": form.cleaned_data.get("name", "")},
                password=form.cleaned_data["password1"],
                context=context,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()
        self._saved_pk = saved.pk

    def save_related(self, request, form, formsets, change):
        if change:
            services.staff_save(
                user=form.instance,
                data={},
                groups=form.cleaned_data.get("groups"),
                permissions=form.cleaned_data.get("user_permissions"),
                context=console_context(request),
            )


@admin.register(User)
class PersonLookupAdmin(ReadOnlyAdmin):
    """Every person, for autocomplete widgets of other models; hidden from the index."""

    list_display = ("email", "name", "is_staff", "created_at")
    search_fields = ("email", "name", "first_name", "last_name")
    ordering = ("-created_at",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    exclude = ("password",)

    def get_model_perms(self, request):
        return {}


@admin.register(PersonChange)
class PersonChangeAdmin(ReadOnlyAdmin):
    """Who changed a person's profile, consent or status, and through which door."""

    list_display = ("created_at", "user", "fields", "marketing_opt_in", "source", "actor")
    list_filter = ("source",)
    search_fields = ("user__email",)
    list_select_related = ("user", "actor")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    """Acquisition channels: reference data (seed 000), installed by a migration."""

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

    def service_data(self) -> dict:
        data = {f: self.cleaned_data[f] for f in self._meta.fields}
        if self.cleaned_data.get("clear_customer_io_api_key"):
            data["customer_io_api_key"] = ""
        elif self.cleaned_data.get("new_customer_io_api_key"):
            data["customer_io_api_key"] = self.cleaned_data["new_customer_io_api_key"]
        return data


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    form = BrandForm
    list_display = ("name", "slug", "is_active", "customer_io_configured", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request, obj=None):
        return False  # brands own ledgers and products: deactivate instead

    def save_model(self, request, obj, form, change):
        saved = services.brand_save(
            brand=obj if change else None, data=form.service_data(), context=console_context(request)
        )
        obj.pk = saved.pk
        obj.refresh_from_db()

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

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record of use stays

    def save_model(self, request, obj, form, change):
        pass  # every field is read-only: nothing to save

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token)
        self.message_user(request, f"Revoked at {timezone.now():%Y-%m-%d %H:%M}.", messages.SUCCESS)
