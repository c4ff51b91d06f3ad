from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError

from accounts import services, throttles
from accounts.models import CareerStage, CustomFieldType
from focusedroom.context import RequestContext, client_ip
from focusedroom.fields import decrypt_value, encrypt_value
from focusedroom.forms import NormalizedChoiceField
from focusedroom.tasks import defer


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        min_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters.",
    )
    referral_code = forms.CharField(max_length=50, required=False, label="Referral code (optional)")


class ThrottledLoginMixin:
    """Says clearly when a log-in is refused because of too many failures (``accounts.backends``)."""

    def get_invalid_login_error(self):
        wait = getattr(self.request, "login_retry_after", 0)
        if wait:
            return ValidationError(
                throttles.wait_message(wait, "failed log-ins for this account or from your network")
                + " You can also reset your password.",
                code="throttled",
            )
        return super().get_invalid_login_error()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ConsoleLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The console's log-in form, with the same limits as the member page."""


class BackgroundPasswordResetForm(PasswordResetForm):
    """Django's password-reset form whose lookup and email run in a worker: ``save()`` only queues an
    ``accounts.password_reset_send`` job (the address encrypted), whatever the address, so asking for
    a known address takes as long as asking for an unknown one. Links use Django's default token
    generator."""

    def save(
        self,
        domain_override=None,
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.html",
        use_https=False,
        token_generator=None,
        from_email=None,
        request=None,
        html_email_template_name=None,
        extra_email_context=None,
    ):
        domain = domain_override or (get_current_site(request).domain if request is not None else "")
        if not domain:
            site = settings.SITE_URL.split("://", 1)
            domain = site[1] if len(site) == 2 else site[0]
        options = {
            "domain_override": domain,
            "subject_template_name": subject_template_name,
            "email_template_name": email_template_name,
            "use_https": bool(use_https),
            "from_email": from_email,
            "html_email_template_name": html_email_template_name,
            "extra_email_context": extra_email_context,
        }
        defer("accounts.password_reset_send", email=encrypt_value(self.cleaned_data["email"]), options=options)


def password_reset_send(*, email: str, options: dict) -> None:
    """The worker's half of the password-reset form: find the person and send the link now."""
    form = PasswordResetForm({"email": decrypt_value(email)})
    if form.is_valid():
        form.save(**options)


class ThrottledPasswordResetForm(BackgroundPasswordResetForm):
    """The password-reset page: limited per account and per client address (``accounts.throttles``)."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_email(self):
        email = self.cleaned_data["email"]
        wait = throttles.password_reset_retry_after(email=email, ip=client_ip(self.request))
        if wait:
            raise ValidationError(throttles.wait_message(wait, "password-reset requests"), code="throttled")
        return email


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=255, required=False)
    age = forms.IntegerField(min_value=13, max_value=120, required=False)
    profession = forms.CharField(max_length=255, required=False)
    career_stage = NormalizedChoiceField(
        choices=[("", "—"), *CareerStage.choices], required=False, normalize=services.career_stage_value
    )
    purpose = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    time_zone = forms.CharField(max_length=63, required=False, help_text="IANA name, e.g. Europe/Paris.")
    marketing_opt_in = forms.BooleanField(required=False, label="Send me FocusedRoom tips and offers by email")


class VerificationResendForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class VerificationConfirmForm(forms.Form):
    """The button of an emailed verification link, with consent offered (never pre-ticked)."""

    marketing_opt_in = forms.BooleanField(
        required=False,
        label="Also send me FocusedRoom tips, offers and news by email (I can unsubscribe at any time).",
    )


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label="New email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class CustomFieldsForm(forms.Form):
    """A brand's custom fields as a form; the service validates the values again."""

    def __init__(self, *args, answers, **kwargs):
        kwargs.setdefault("prefix", "cf")
        initial = {a.key: a.value for a in answers if a.value is not None}
        super().__init__(*args, initial=initial, **kwargs)
        for answer in answers:
            field = answer.field
            common = {"label": field.field_label, "required": field.is_required}
            if field.field_type == CustomFieldType.CHECKBOX:
                form_field = forms.BooleanField(**common)
            elif field.field_type == CustomFieldType.SELECT:
                choices = [("", "—"), *((o, o) for o in field.field_options or [])]
                form_field = forms.ChoiceField(choices=choices, **common)
            elif field.field_type == CustomFieldType.RADIO:
                choices = [(o, o) for o in field.field_options or []]
                form_field = forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
            else:
                form_field = forms.CharField(max_length=1000, **common)
            self.fields[field.field_key] = form_field


class PasswordSetThroughService:
    """Password forms (reset link, change) that save through ``accounts.services.person_set_password``,
    so every password change revokes the person's API tokens and records the change."""

    def save(self, commit=True):
        return services.person_set_password(
            user=self.user,
            password=self.cleaned_data["new_password1"],
            context=RequestContext.system(source="page", actor=self.user),
        )


class ResetPasswordForm(PasswordSetThroughService, SetPasswordForm):
    pass


class ChangePasswordForm(PasswordSetThroughService, PasswordChangeForm):
    pass
