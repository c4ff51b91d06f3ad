"""Member pages: sign-up, account claim, log-in, the account page."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.dashboard import panels_for
from accounts.forms import LoginForm, ProfileForm, SignupForm
from focusedroom.errors import ApplicationError

REFERRAL_COOKIE = "fr_ref"


def _add_service_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("account")
    form = SignupForm(request.POST or None, initial={"referral_code": request.COOKIES.get(REFERRAL_COOKIE, "")})
    if request.method == "POST" and form.is_valid():
        try:
            result = services.member_signup(**form.cleaned_data, request=request)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            if result.claim_pending:
                return render(request, "accounts/signup_check_email.html", {"email": result.user.email})
            login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to FocusedRoom! Your account is ready.")
            return redirect("account")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def account_claim(request, token: str):
    """GET shows a confirmation button (mail scanners follow links); POST claims."""
    try:
        if request.method == "POST":
            user = services.account_claim_confirm(raw_token=token, request=request)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Your email is confirmed and your account is ready.")
            return redirect("account")
        claim = services.account_claim_get(raw_token=token)
    except ApplicationError as exc:
        return render(request, "accounts/claim_invalid.html", {"message": exc.message}, status=exc.status_code)
    return render(request, "accounts/claim_confirm.html", {"email": claim.user.email})


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    user = request.user
    initial = {f: getattr(user, f) for f in ProfileForm.base_fields}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update_profile(user=user, data=form.cleaned_data)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("account")
    context = {"form": form, "panels": panels_for(user=user, request=request)}
    return render(request, "accounts/account.html", context, status=400 if form.errors else 200)
