"""Member pages of the rewards app (under ``/account/gems/``) and the referral link ``/r/<code>/``."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from focusedroom.context import REFERRAL_COOKIE, REFERRAL_COOKIE_MAX_AGE, RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors
from rewards import selectors, services
from rewards.forms import GoalForm, ScanForm
from rewards.models import Product, ReferralCode, RewardItem, WishlistItem

REFERRAL_LANDING = "/big-five/"


@require_GET
def referral_landing(request, code: str):
    """Remember a valid referral code for 30 days and go to the Big Five test."""
    response = redirect(REFERRAL_LANDING)
    if ReferralCode.objects.filter(code=code[:50], is_active=True).exists():
        response.set_cookie(
            REFERRAL_COOKIE,
            code[:50],
            max_age=REFERRAL_COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure(),
        )
    return response


@login_required
@require_GET
def history(request):
    """The member's ledger, paginated, with reasons in words."""
    page = Paginator(selectors.ledger_for(user=request.user), 25).get_page(request.GET.get("page"))
    wallet = services.wallet_get_or_create(user=request.user)
    return render(request, "rewards/history.html", {"page": page, "wallet": wallet})


@login_required
@require_POST
def daily_claim(request):
    reward, created = services.daily_reward_claim(user=request.user, context=RequestContext.from_request(request))
    if created:
        messages.success(request, f"+{reward.reward_amount} Insight Gems — day {reward.streak} of your streak!")
    else:
        messages.info(request, "You already collected today's reward. Come back tomorrow!")
    return redirect("account")


@login_required
@require_http_methods(["GET", "POST"])
def scan(request):
    form = ScanForm(request.POST or None, initial={"brand": "focusedroom"})
    if request.method == "POST" and form.is_valid():
        try:
            result, created = services.product_scan(
                user=request.user,
                sku=form.cleaned_data["sku"],
                brand=form.cleaned_data["brand"].slug,
                context=RequestContext.from_request(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ApplicationError as exc:
            form.add_error("sku", exc.message)
        else:
            if created:
                messages.success(request, f"+{result.points_awarded} Insight Gems for {result.product.name}.")
            else:
                messages.info(request, f"You already scanned {result.product.name} today.")
            return redirect("rewards-scan")
    return render(request, "rewards/scan.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def catalog(request):
    products = Paginator(
        Product.objects.filter(is_active=True, brand__is_active=True)
        .select_related("brand")
        .order_by("brand__name", "name", "id"),
        24,
    ).get_page(request.GET.get("page"))
    wished = set(WishlistItem.objects.filter(user=request.user).values_list("product_id", flat=True))
    items = RewardItem.objects.filter(is_active=True, brand__is_active=True).select_related("brand")[:50]
    wallet = services.wallet_get_or_create(user=request.user)
    # One key per rendered form: a double submit redeems once.
    context = {"products": products, "wished": wished, "items": items, "wallet": wallet, "form_key": uuid.uuid4().hex}
    return render(request, "rewards/catalog.html", context)


@login_required
@require_POST
def wishlist_add(request, product_id: int):
    product = get_object_or_404(Product, pk=product_id, is_active=True)
    try:
        services.wishlist_add(user=request.user, product=product, context=RequestContext.from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{product.name} is on your wishlist.")
    return redirect(request.POST.get("next") if request.POST.get("next") == "account" else "rewards-catalog")


@login_required
@require_POST
def wishlist_remove(request, item_id: int):
    item = get_object_or_404(WishlistItem, pk=item_id, user=request.user)
    services.wishlist_remove(user=request.user, item=item)
    messages.success(request, "Removed from your wishlist.")
    return redirect("account")


@login_required
@require_POST
def redeem(request):
    product = reward_item = None
    if request.POST.get("product"):
        product = get_object_or_404(Product, pk=request.POST["product"])
    elif request.POST.get("reward_item"):
        reward_item = get_object_or_404(RewardItem, pk=request.POST["reward_item"])
    try:
        redemption, _ = services.redemption_create(
            user=request.user,
            product=product,
            reward_item=reward_item,
            idempotency_key=request.POST.get("idempotency_key", "")[:100],
            context=RequestContext.from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"You redeemed {redemption.target_name} for {redemption.cost} gems.")
    return redirect("rewards-catalog")


@login_required
@require_http_methods(["GET", "POST"])
def goal_new(request):
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your goal is set.")
            return redirect("account")
    return render(request, "rewards/goal_form.html", {"form": form}, status=400 if form.errors else 200)
