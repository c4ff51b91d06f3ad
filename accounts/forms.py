from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.models import CareerStage


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        min_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters.",
    )
    referral_code = forms.CharField(max_length=50, required=False, label="Referral code (optional)")


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=255, required=False)
    age = forms.IntegerField(min_value=13, max_value=120, required=False)
    profession = forms.CharField(max_length=255, required=False)
    career_stage = forms.ChoiceField(choices=[("", "—"), *CareerStage.choices], required=False)
    purpose = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    time_zone = forms.CharField(max_length=63, required=False, help_text="IANA name, e.g. Europe/Paris.")
    marketing_opt_in = forms.BooleanField(required=False, label="Send me FocusedRoom tips and offers by email")
