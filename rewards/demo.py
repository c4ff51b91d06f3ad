"""Demo loyalty programme: products, reward items, ranks, achievements, and the gems of
the demo customers (scans, wishlists, goals, redemptions, referrals). Idempotent: every
write goes through the services with fixed keys, and a customer's activity is seeded once.
"""

from __future__ import annotations

import contextlib
import random
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from focusedroom.errors import ApplicationError
from rewards import services
from rewards.models import AchievementConfig, LedgerEntry, Product, Rank, RewardItem

PRODUCTS = [
    # sku, name, msrp, points per scan, redemption cost, form
    ("FR-JOURNAL", "Focus Journal", "24.00", 40, 400, "Journal"),
    ("FR-DEEPWORK", "Deep Work Course", "149.00", 150, 1500, "Course"),
    ("FR-B5-REPORT", "Big Five Extended Report", "19.00", 30, 250, "Report"),
    ("FR-MIND-DECK", "Mindful Moments Card Deck", "14.00", 20, 180, "Cards"),
    ("FR-HABIT", "90-Day Habit Tracker", "12.00", 20, 150, "Planner"),
    ("FR-EBOOK-TRAITS", "Your Traits at Work (eBook)", "9.00", 15, 120, "eBook"),
    ("FR-COACH-30", "30-minute Career Coaching", "79.00", 80, 900, "Session"),
    ("FR-TEAM-PASS", "Team Workshop Pass", "299.00", 250, None, "Workshop"),
]
REWARD_ITEMS = [
    ("ten-off", "10% off your next course", "A one-time discount code.", 300),
    ("ama-ticket", "Ticket to a live Q&A", "Ask our psychologists anything.", 600),
    ("plant-a-tree", "Plant a tree", "We plant a tree in your name.", 200),
]
RANKS = [
    ("explorer", "Explorer", 0, "1.00", "Welcome to FocusedRoom."),
    ("achiever", "Achiever", 500, "1.25", "25% more gems on every scan."),
    ("master", "Master", 1500, "1.50", "50% more gems and early access to new courses."),
    ("sage", "Sage", 4000, "2.00", "Double gems and a yearly coaching session."),
]
ACHIEVEMENTS = [
    ("first-scan", "First scan", "Scan your first product.", "scan_count", "scan_count", 1, 25),
    ("five-scans", "Regular", "Scan five products.", "scan_count", "scan_count", 5, 75),
    ("ambassador", "Ambassador", "A friend joined through your link.", "referral_count", "referral_count", 1, 100),
    ("curator", "Curator", "Keep three products on your wishlist.", "wishlist_items", "wishlist_items", 3, 30),
    (
        "investor",
        "Invested in growth",
        "Scan products worth 100 or more.",
        "purchase_amount",
        "purchase_amount",
        100,
        60,
    ),
    ("collector", "Collector", "Unlock three achievements.", "achievement_unlocked", "achievements_unlocked", 3, 50),
]
DEMO_ADMIN_EMAIL = "admin@focusedroom.local"


def _catalogue(brand) -> list[Product]:
    products = []
    for sku, name, msrp, points, cost, form in PRODUCTS:
        product, _ = Product.objects.get_or_create(
            brand=brand,
            sku=sku,
            defaults={
                "name": name,
                "msrp": Decimal(msrp),
                "points_award": points,
                "redemption_cost": cost,
                "product_form": form,
                "product_line": "FocusedRoom",
                "tags": ["focus", form.lower()],
                "is_featured": sku in ("FR-JOURNAL", "FR-DEEPWORK"),
            },
        )
        products.append(product)
    for key, name, description, cost in REWARD_ITEMS:
        RewardItem.objects.get_or_create(
            brand=brand, key=key, defaults={"name": name, "description": description, "cost": cost}
        )
    for key, name, required, multiplier, benefits in RANKS:
        Rank.objects.get_or_create(
            brand=brand,
            key=key,
            defaults={
                "name": name,
                "points_required": required,
                "point_multiplier": Decimal(multiplier),
                "benefits": benefits,
            },
        )
    for key, name, description, kind, metric, value, points in ACHIEVEMENTS:
        AchievementConfig.objects.get_or_create(
            achievement_key=key,
            brand=None,
            defaults={
                "name": name,
                "description": description,
                "achievement_type": kind,
                "criteria": {"metric": metric, "operator": ">=", "value": value, "timeframe": "all_time"},
                "rewards": {"points": points, "badge": key},
                "visibility": {"show_progress": True},
            },
        )
    return products


def _activity(user: User, products: list[Product], rng: random.Random) -> bool:
    """A customer's gems, once: the marker entry ``demo:<id>:bonus`` says it was seeded."""
    marker = f"demo:{user.pk}:bonus"
    if LedgerEntry.objects.filter(idempotency_key=marker).exists():
        return False
    with transaction.atomic():
        services.wallet_get_or_create(user=user)
        for product in rng.sample(products, rng.randint(1, 5)):
            services.product_scan(user=user, sku=product.sku, brand=product.brand.slug)
        for product in rng.sample(products, rng.randint(0, 3)):
            services.wishlist_add(user=user, product=product)
        services.gems_credit(
            user=user,
            amount=rng.choice([50, 150, 400, 900]),
            reason=LedgerEntry.Reason.ADJUSTMENT,
            idempotency_key=marker,
            description="Demo loyalty bonus",
        )
        if rng.random() < 0.5:
            target = rng.choice([p for p in products if p.redemption_cost])
            services.goal_create(user=user, goal_type="wishlist_item", product=target)
        if rng.random() < 0.3:
            cheap = min((p for p in products if p.redemption_cost), key=lambda p: p.redemption_cost)
            with contextlib.suppress(ApplicationError):  # not enough gems: fine for a demo member
                services.redemption_create(user=user, product=cheap, idempotency_key=f"demo:{user.pk}")
    return True


def seed(*, scale: int) -> str:
    rng = random.Random(5)
    brand = services.brand_default()
    with transaction.atomic():
        products = _catalogue(brand)
    customers = list(
        User.objects.filter(email__startswith="demo.customer", is_staff=False).order_by("email")[: min(scale, 40)]
    )
    seeded = sum(_activity(user, products, rng) for user in customers)
    referrals = 0
    for referrer, referee in zip(customers[0::4], customers[1::4], strict=False):
        with transaction.atomic():
            referral = services.referral_create_pending(
                referee=referee, code=services.referral_code_for(user=referrer).code
            )
            if referral.status == "pending" and referee.pk % 2 == 0:
                services.referral_convert(referee=referee)
        referrals += 1
    admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
    if admin is not None:
        seeded += _activity(admin, products, rng)
    return (
        f"{len(products)} products, {len(RANKS)} ranks, {len(ACHIEVEMENTS)} achievements; "
        f"{seeded} members' gems seeded, {referrals} referrals"
    )
