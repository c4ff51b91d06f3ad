"""Member pages of the rewards app (under ``/account/gems/``) and the referral link ``/r/<code>/``.

The pages are for loyalty members: staff get a 404. A GET writes nothing: a member
without a wallet yet sees an empty one.
"""

from __future__ import annotations

import functools
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import is_member
from focusedroom.context import REFERRAL_COOKIE, REFERRAL_COOKIE_MAX_AGE, RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors, error_message
from rewards import selectors, services
from rewards.forms import GoalForm, ScanForm
from rewards.models import Product, RewardItem, WishlistItem

REFERRAL_LANDING = "/big-five/"


def member_required(view):
    """Signed-in loyalty members only: staff accounts hold no gems (404)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_member(request.user):
            raise Http404("Staff accounts are not loyalty members.")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def referral_landing(request, code: str):
    """Remember a valid referral code for 30 days and go to the Big Five test."""
    response = redirect(REFERRAL_LANDING)
    if selectors.referral_code_valid(code):
        response.set_cookie(
            REFERRAL_COOKIE,
            code[:50],
            max_age=REFERRAL_COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=request.is_secure(),
        )
    return response


@member_required
@require_GET
def history(request):
    """The member's ledger, paginated, with reasons in words; pending gems, the expiry schedule and their
    unlocks and rank changes above it."""
    page = Paginator(selectors.ledger_for(user=request.user), 25).get_page(request.GET.get("page"))
    wallet = selectors.wallet_of(user=request.user)
    milestones = selectors.milestones_for(user=request.user) if page.number == 1 else []
    pending = list(selectors.pending_credits_for(user=request.user)[:50])
    context = {
        "page": page,
        "wallet": wallet,
        "milestones": milestones,
        "pending": pending,
        "pending_total": selectors.pending_total(user=request.user) if pending else 0,
        "expiry": selectors.expiry_schedule(user=request.user, wallet=wallet),
    }
    return render(request, "rewards/history.html", context)


@member_required
@require_POST
def daily_claim(request):
    reward, created = services.daily_reward_claim(user=request.user, context=RequestContext.from_request(request))
    if created:
        messages.success(request, f"+{reward.reward_amount} Insight Gems — day {reward.streak} of your streak!")
    else:
        messages.info(request, "Today's reward is already in your balance. Come back tomorrow!")
    return redirect("account")


@member_required
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
            if created and result.points_awarded and result.entry_id is None:
                messages.success(
                    request,
                    f"+{result.points_awarded} Insight Gems for {result.product.name}, pending: "
                    "you can spend them once they are released (see My Insight Gems).",
                )
            elif created:
                messages.success(request, f"+{result.points_awarded} Insight Gems for {result.product.name}.")
            else:
                messages.info(request, f"You already scanned {result.product.name} today.")
            return redirect("rewards-scan")
    return render(request, "rewards/scan.html", {"form": form}, status=400 if form.errors else 200)


@member_required
@require_GET
def catalog(request):
    """Products and rewards; a reward the balance cannot pay says how many gems are missing."""
    products = Paginator(selectors.catalog_products(), 24).get_page(request.GET.get("page"))
    wished = selectors.wished_product_ids(user=request.user)
    wallet = selectors.wallet_of(user=request.user)
    items = [
        {"item": item, "missing": max(0, item.cost - wallet.balance)} for item in selectors.catalog_reward_items()[:50]
    ]
    for product in products:
        product.missing = max(0, (product.redemption_cost or 0) - wallet.balance)
    context = {"products": products, "wished": wished, "items": items, "wallet": wallet}
    return render(request, "rewards/catalog.html", context)


def _redemption_target(data) -> tuple[Product | None, RewardItem | None]:
    """The product or reward item a redemption form names (404 when it names neither)."""
    if data.get("product"):
        return get_object_or_404(Product, pk=data["product"]), None
    if data.get("reward_item"):
        return None, get_object_or_404(RewardItem, pk=data["reward_item"])
    raise Http404("Choose a product or a reward.")


@member_required
@require_GET
def redeem_confirm(request):
    """Before gems are spent: what it costs and the balance after, with a button to confirm (or what is missing)."""
    product, reward_item = _redemption_target(request.GET)
    if (product is not None and (not product.is_active or product.redemption_cost is None)) or (
        reward_item is not None and not reward_item.is_active
    ):
        raise Http404("This cannot be redeemed.")
    preview = selectors.redemption_preview(user=request.user, product=product, reward_item=reward_item)
    # One key per rendered confirmation: a double submit redeems once.
    context = {"preview": preview, "product": product, "reward_item": reward_item, "form_key": uuid.uuid4().hex}
    return render(request, "rewards/redeem_confirm.html", context)


@member_required
@require_POST
def wishlist_add(request, product_id: int):
    product = get_object_or_404(Product, pk=product_id, is_active=True)
    try:
        services.wishlist_add(user=request.user, product=product, context=RequestContext.from_request(request))
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"{product.name} is on your wishlist.")
    return redirect(request.POST.get("next") if request.POST.get("next") == "account" else "rewards-catalog")


@member_required
@require_POST
def wishlist_remove(request, item_id: int):
    item = get_object_or_404(WishlistItem, pk=item_id, user=request.user)
    services.wishlist_remove(user=request.user, item=item, context=RequestContext.from_request(request))
    messages.success(request, "Removed from your wishlist.")
    return redirect("account")


@member_required
@require_POST
def redeem(request):
    product, reward_item = _redemption_target(request.POST)
    try:
        redemption, _ = services.redemption_create(
            user=request.user,
            product=product,
            reward_item=reward_item,
            idempotency_key=request.POST.get("idempotency_key", "")[:100],
            context=RequestContext.from_request(request),
        )
    except (ValidationError, ApplicationError) as exc:
        messages.error(request, error_message(exc))
    else:
        balance = selectors.wallet_of(user=request.user).balance
        messages.success(
            request,
            f"You redeemed {redemption.target_name} for {redemption.cost} gems. Your balance is now {balance} gems.",
        )
    return redirect("rewards-catalog")


@member_required
@require_http_methods(["GET", "POST"])
def goal_new(request):
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_create(user=request.user, **form.cleaned_data, context=RequestContext.from_request(request))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your goal is set.")
            return redirect("account")
    return render(request, "rewards/goal_form.html", {"form": form}, status=400 if form.errors else 200)


@member_required
@require_POST
def referral_code(request):
    """Make the member's referral link when they have none (members get one when they join)."""
    services.referral_code_ensure(user=request.user, context=RequestContext.from_request(request))
    messages.success(request, "Your referral link is ready: share it with your friends.")
    return redirect("account")
