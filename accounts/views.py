"""Member pages: sign-up, account claim, log-in, the account page, email verification,
one-click email links and the custom fields panel."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import action_links, custom_fields, services, verification
from accounts.forms import (
    CustomFieldsForm,
    EmailChangeForm,
    LoginForm,
    ProfileForm,
    SignupForm,
    ThrottledPasswordResetForm,
    VerificationConfirmForm,
    VerificationResendForm,
)
from focusedroom import registries
from focusedroom.context import REFERRAL_COOKIE, RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors

LOGIN_BACKEND = "accounts.backends.ThrottledModelBackend"


def _profile_initial(user) -> dict:
    return {f: getattr(user, f) for f in ProfileForm.base_fields}


def _panels(*, user, request) -> list[dict]:
    """The panels other apps add to ``/account/`` (``focusedroom.registries.account_panels``)."""
    panels = sorted(registries.account_panels.entries(), key=lambda p: p.order)
    return [{"template": p.template, "context": p.context(user=user, request=request)} for p in panels]


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("account")
    form = SignupForm(request.POST or None, initial={"referral_code": request.COOKIES.get(REFERRAL_COOKIE, "")})
    if request.method == "POST" and form.is_valid():
        try:
            result = services.member_signup(**form.cleaned_data, context=RequestContext.from_request(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # The same page whatever the address: sign-up never tells who has an account.
            return render(request, "accounts/signup_check_email.html", {"email": result.email})
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def account_claim(request, token: str):
    """GET shows a confirmation button (mail scanners follow links); POST claims."""
    try:
        if request.method == "POST":
            user = services.account_claim_confirm(raw_token=token, context=RequestContext.from_request(request))
            login(request, user, backend=LOGIN_BACKEND)
            messages.success(request, "Your email is confirmed and your account is ready.")
            return redirect("account")
        claim = services.account_claim_get(raw_token=token)
    except ApplicationError as exc:
        return render(request, "accounts/claim_invalid.html", {"message": exc.message}, status=exc.status_code)
    return render(request, "accounts/claim_confirm.html", {"email": claim.user.email})


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Limited per account and per address; the lookup and the email happen in a task worker
    (one job whatever the address)."""

    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    user = request.user
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
    if request.method == "POST" and form.is_valid():
        try:
            services.person_update_profile(
                user=user, data=form.cleaned_data, context=RequestContext.from_request(request)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("account")
    context = {"form": form, "email_form": EmailChangeForm(), "panels": _panels(user=user, request=request)}
    return render(request, "accounts/account.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def account_email_change(request):
    """Ask to use another address: a link goes to the new address; nothing changes until it is followed."""
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            new_email = services.person_email_change_request(
                user=request.user, new_email=form.cleaned_data["email"], context=RequestContext.from_request(request)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"We sent a link to {new_email}. Your address changes when you follow it.")
            return redirect("account")
    profile_form = ProfileForm(initial=_profile_initial(request.user))
    context = {"form": profile_form, "email_form": form, "panels": _panels(user=request.user, request=request)}
    return render(request, "accounts/account.html", context, status=400)


@require_http_methods(["GET", "POST"])
def email_change_confirm(request, token: str):
    """The link sent to the new address: GET shows a button, POST changes the address."""
    try:
        if request.method == "POST":
            user = services.person_email_change_confirm(raw_token=token, context=RequestContext.from_request(request))
            return render(request, "accounts/email_change_done.html", {"email": user.email})
        change = services.email_change_get(raw_token=token)
    except ApplicationError as exc:
        context = {"message": exc.message, "title": "Change your email address"}
        return render(request, "accounts/action_invalid.html", context, status=exc.status_code)
    return render(request, "accounts/email_change_confirm.html", {"email": change.new_email})


# ------------------------------------------------------------------ email verification


@require_http_methods(["GET", "POST"])
def verify_email(request, token: str):
    """The emailed link shows a button (GET writes nothing; mail scanners follow links but do not
    press buttons); pressing it confirms the address. A bad link gets a clear page and a resend form."""
    try:
        if request.method == "GET":
            token_row = verification.verification_token_get(raw_token=token)
            context = {"email": token_row.email, "form": VerificationConfirmForm(), "user_row": token_row.user}
            return render(request, "accounts/verify_email_confirm.html", context)
        form = VerificationConfirmForm(request.POST)
        opt_in = bool(form.is_valid() and form.cleaned_data["marketing_opt_in"])
        user = verification.verification_confirm(
            raw_token=token, marketing_opt_in=opt_in, context=RequestContext.from_request(request)
        )
    except ApplicationError as exc:
        initial = {"email": request.user.email} if request.user.is_authenticated else {}
        context = {"message": exc.message, "code": exc.code, "form": VerificationResendForm(initial=initial)}
        return render(request, "accounts/verify_email_invalid.html", context, status=exc.status_code)
    return render(request, "accounts/verify_email_done.html", {"email": user.email})


@require_http_methods(["GET", "POST"])
def verify_email_resend(request):
    """Ask for a new link. The answer is the same whether or not the address has an account."""
    initial = {"email": request.user.email} if request.user.is_authenticated else {}
    form = VerificationResendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        verification.verification_request(
            email=form.cleaned_data["email"], context=RequestContext.from_request(request)
        )
        return render(request, "accounts/verify_email_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/verify_email_resend.html", {"form": form}, status=400 if form.errors else 200)


# ------------------------------------------------------------------ one-click links

ACTION_TITLES = {"login": "Log in to FocusedRoom", "unsubscribe": "Unsubscribe from FocusedRoom emails"}


def _action_page(request, token: str, action: str):
    """GET shows a button (mail scanners follow links but do not press buttons); POST acts."""
    try:
        if request.method == "POST":
            user = action_links.action_token_use(
                token=token, action=action, context=RequestContext.from_request(request)
            )
        else:
            user = action_links.action_token_get(token=token, action=action).user
    except ApplicationError as exc:
        context = {"message": exc.message, "title": ACTION_TITLES[action]}
        return render(request, "accounts/action_invalid.html", context, status=exc.status_code)
    if request.method == "GET":
        context = {"action": action, "title": ACTION_TITLES[action], "email": user.email}
        return render(request, "accounts/action_confirm.html", context)
    if action == "login":
        login(request, user, backend=LOGIN_BACKEND)
        messages.success(request, "You are logged in.")
        return redirect("account")
    return render(request, "accounts/unsubscribed.html", {"email": user.email})


@require_http_methods(["GET", "POST"])
def action_login(request, token: str):
    return _action_page(request, token, "login")


@require_http_methods(["GET", "POST"])
def action_unsubscribe(request, token: str):
    return _action_page(request, token, "unsubscribe")


# ------------------------------------------------------------------ custom fields


def _brand_or_404(slug):
    try:
        return custom_fields.brand_for_custom_fields(slug=slug)
    except ApplicationError:
        raise Http404("Unknown brand.") from None


def custom_fields_panel(*, user, request) -> dict:
    """Context of the custom fields panel on /account/ (``?brand=slug``, FocusedRoom by default)."""
    form = getattr(request, "custom_fields_form", None)
    brand = getattr(request, "custom_fields_brand", None) or _brand_or_404(request.GET.get("brand"))
    if form is None:
        form = CustomFieldsForm(answers=custom_fields.custom_fields_for(user=user, brand=brand))
    action = reverse("account-custom-fields") + "?" + urlencode({"brand": brand.slug})
    return {"form": form, "brand": brand, "action": action}


@login_required
@require_POST
def account_custom_fields(request):
    brand = _brand_or_404(request.GET.get("brand"))
    user = request.user
    form = CustomFieldsForm(request.POST, answers=custom_fields.custom_fields_for(user=user, brand=brand))
    if form.is_valid():
        try:
            custom_fields.custom_field_values_set(user=user, brand=brand, values=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Your {brand.name} details are saved.")
            return redirect(reverse("account") + "?" + urlencode({"brand": brand.slug}))
    request.custom_fields_form, request.custom_fields_brand = form, brand
    profile_form = ProfileForm(initial=_profile_initial(user))
    context = {"form": profile_form, "email_form": EmailChangeForm(), "panels": _panels(user=user, request=request)}
    return render(request, "accounts/account.html", context, status=400)
