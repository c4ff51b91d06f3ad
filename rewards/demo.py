"""Demo loyalty programme: products, reward items, ranks, achievements, and the gems of
the demo customers (scans, wishlists, goals, redemptions, referrals). Idempotent: every
write goes through the services with fixed keys, and a customer's activity is seeded once.
"""

from __future__ import annotations

import contextlib
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from accounts import selectors as accounts_selectors
from focusedroom.errors import ApplicationError
from rewards import services
from rewards.models import AchievementConfig, LedgerEntry, Product, Rank, RewardItem
from rewards.schemas import reward_settings

if TYPE_CHECKING:
    from accounts.models import User

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


def _catalogue(brand) -> list[Product]:
    """The demo catalogue, made through the catalogue services (rows already there are kept)."""
    products = []
    for sku, name, msrp, points, cost, form in PRODUCTS:
        product = Product.objects.filter(brand=brand, sku=sku).first() or services.product_create(
            data={
                "brand": brand,
                "sku": sku,
                "name": name,
                "msrp": Decimal(msrp),
                "points_award": points,
                "redemption_cost": cost,
                "product_form": form,
                "product_line": "FocusedRoom",
                "tags": ["focus", form.lower()],
                "is_featured": sku in ("FR-JOURNAL", "FR-DEEPWORK"),
            }
        )
        products.append(product)
    for key, name, description, cost in REWARD_ITEMS:
        if not RewardItem.objects.filter(brand=brand, key=key).exists():
            services.reward_item_create(
                data={"brand": brand, "key": key, "name": name, "description": description, "cost": cost}
            )
    for key, name, required, multiplier, benefits in RANKS:
        if not Rank.objects.filter(brand=brand, key=key).exists():
            services.rank_create(
                data={
                    "brand": brand,
                    "key": key,
                    "name": name,
                    "points_required": required,
                    "point_multiplier": Decimal(multiplier),
                    "benefits": benefits,
                }
            )
    for key, name, description, kind, metric, value, points in ACHIEVEMENTS:
        if not AchievementConfig.objects.filter(achievement_key=key, brand=None).exists():
            services.achievement_config_create(
                data={
                    "brand": None,
                    "name": name,
                    "description": description,
                    "achievement_key": key,
                    "achievement_type": kind,
                    "criteria": {"metric": metric, "operator": ">=", "value": value, "timeframe": "all_time"},
                    "rewards": {"points": points, "badge": key},
                    "visibility": {"show_progress": True},
                }
            )
    return products


def _activity(user: User, products: list[Product], rng: random.Random) -> bool:
    """A customer's gems, once: the marker entry ``demo:<id>:bonus`` says it was seeded."""
    marker = f"demo:{user.pk}:bonus"
    if LedgerEntry.objects.filter(idempotency_key=marker).exists():
        return False
    with transaction.atomic():
        services.member_enrol(user=user)
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
    from focusedroom.bulk import bulk_enabled

    rng = random.Random(5)
    brand = services.brand_default()
    with transaction.atomic():
        products = _catalogue(brand)
    if bulk_enabled(scale):
        return seed_bulk(brand=brand, products=products)
    customers = list(
        accounts_selectors.people()
        .filter(email__startswith="demo.customer", is_staff=False)
        .order_by("email")[: min(scale, 40)]
    )
    seeded = sum(_activity(user, products, rng) for user in customers)
    referrals = 0
    for referrer, referee in zip(customers[0::4], customers[1::4], strict=False):
        with transaction.atomic():
            code, _ = services.referral_code_ensure(user=referrer)
            referral = services.referral_create_pending(referee=referee, code=code.code)
            if referral.status == "pending" and referee.pk % 2 == 0:
                services.referral_convert(referee=referee)
        referrals += 1
    return (
        f"{len(products)} products, {len(RANKS)} ranks, {len(ACHIEVEMENTS)} achievements; "
        f"{seeded} members' gems seeded, {referrals} referrals"
    )


# ------------------------------------------------------------------ bulk (large scales)

# Two customers in five have a wallet: the welcome gift and a demo loyalty bonus, written
# to the ledger in the same statement as the wallet, whose balance is their sum.
BULK_WALLETS_SQL = """
WITH holders AS (
    SELECT u.id AS user_id, u.created_at, (hashtext('wallet-' || u.id) & 2147483647) AS h
    FROM accounts_user u
    WHERE u.email LIKE 'demo.customer%%' AND NOT u.is_staff
      AND NOT EXISTS (SELECT 1 FROM rewards_wallet w WHERE w.user_id = u.id)
),
chosen AS (
    SELECT user_id, created_at, (ARRAY[50, 150, 400, 900])[1 + (h / 5) %% 4] AS bonus
    FROM holders WHERE h %% 5 < 2
),
w AS (
    INSERT INTO rewards_wallet (user_id, balance, lifetime_earned, created_at, updated_at)
    SELECT user_id, %(welcome)s + bonus, %(welcome)s + bonus, created_at,
           least(created_at + interval '1 day', now())
    FROM chosen
    RETURNING id, user_id, created_at, balance - %(welcome)s AS bonus
),
e AS (
    INSERT INTO rewards_ledgerentry (
        wallet_id, kind, amount, reason, brand_id, source, description, actor_kind, idempotency_key, created_at
    )
    SELECT id, 'CREDIT', %(welcome)s, 'welcome', %(brand)s, '', 'Welcome to FocusedRoom', 'system',
           'welcome:' || user_id, created_at
    FROM w WHERE %(welcome)s > 0
    UNION ALL
    SELECT id, 'CREDIT', bonus, 'adjustment', %(brand)s, '', 'Demo loyalty bonus', 'system',
           'demo:' || user_id || ':bonus', least(created_at + interval '1 day', now())
    FROM w
    RETURNING 1
)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM e)
"""

# One wallet holder in ten arrived through the wallet holder before them (by id): half
# of these referrals converted (both sides credited, wallets updated in the same
# statement), a quarter are pending, a quarter expired.
BULK_REFERRALS_SQL = """
WITH ordered AS (
    SELECT w.user_id, u.email, u.created_at, lag(w.user_id) OVER (ORDER BY w.user_id) AS referrer_id,
           row_number() OVER (ORDER BY w.user_id) AS n
    FROM rewards_wallet w JOIN accounts_user u ON u.id = w.user_id
    WHERE u.email LIKE 'demo.customer%%'
),
pairs AS (
    SELECT o.*, 'DEMO' || upper(to_hex(o.referrer_id)) AS code,
           (ARRAY['converted', 'converted', 'pending', 'expired'])[1 + (o.n / 10) %% 4] AS status
    FROM ordered o
    WHERE o.n %% 10 = 0 AND o.referrer_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM rewards_referral r WHERE r.referee_id = o.user_id)
      AND NOT EXISTS (SELECT 1 FROM rewards_referral r WHERE r.referrer_id = o.user_id)
),
codes AS (
    INSERT INTO rewards_referralcode (user_id, code, is_active, created_at)
    SELECT referrer_id, code, true, created_at - interval '1 hour' FROM pairs
    ON CONFLICT DO NOTHING
    RETURNING 1
),
r AS (
    INSERT INTO rewards_referral (
        referrer_id, referee_id, referral_code, email, brand_id, status, expires_at, converted_at,
        points_awarded_to_referrer, points_awarded_to_referee, created_at
    )
    SELECT referrer_id, user_id, code, email, %(brand)s, status,
           CASE WHEN status = 'pending' THEN now() + interval '20 days' ELSE created_at + interval '30 days' END,
           CASE WHEN status = 'converted' THEN least(created_at + interval '2 days', now()) END,
           CASE WHEN status = 'converted' THEN %(referrer)s ELSE 0 END,
           CASE WHEN status = 'converted' THEN %(referee)s ELSE 0 END,
           created_at
    FROM pairs
    RETURNING id, referrer_id, referee_id, status, converted_at
),
e AS (
    INSERT INTO rewards_ledgerentry (
        wallet_id, kind, amount, reason, brand_id, source, description, actor_kind, idempotency_key, created_at
    )
    SELECT w.id, 'CREDIT', side.amount, side.reason, %(brand)s, 'referral:' || r.id, side.description, 'system',
           'referral:' || r.id || ':' || side.name, r.converted_at
    FROM r
    CROSS JOIN LATERAL (
        VALUES ('referrer', r.referrer_id, %(referrer)s, 'referral_referrer', 'Your friend joined FocusedRoom'),
               ('referee', r.referee_id, %(referee)s, 'referral_referee', 'Welcome from your friend')
    ) AS side(name, user_id, amount, reason, description)
    JOIN rewards_wallet w ON w.user_id = side.user_id
    WHERE r.status = 'converted' AND side.amount > 0
    RETURNING wallet_id, amount
),
credited AS (
    UPDATE rewards_wallet w
    SET balance = w.balance + s.amount, lifetime_earned = w.lifetime_earned + s.amount, updated_at = now()
    FROM (SELECT wallet_id, sum(amount) AS amount FROM e GROUP BY wallet_id) AS s
    WHERE w.id = s.wallet_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM codes), (SELECT count(*) FROM e), (SELECT count(*) FROM credited)
"""

# Every wallet's rank in the default brand follows its lifetime earned.
BULK_RANKS_SQL = """
INSERT INTO rewards_memberrank (user_id, brand_id, rank_id, changed_at)
SELECT w.user_id, %(brand)s,
       (SELECT r.id FROM rewards_rank r
        WHERE r.brand_id = %(brand)s AND r.is_active AND r.points_required <= w.lifetime_earned
        ORDER BY r.points_required DESC LIMIT 1),
       w.updated_at
FROM rewards_wallet w
WHERE NOT EXISTS (SELECT 1 FROM rewards_memberrank m WHERE m.user_id = w.user_id AND m.brand_id = %(brand)s)
"""


def seed_bulk(*, brand, products: list[Product]) -> str:
    from focusedroom.bulk import bulk_execute, bulk_fetchone, bulk_session

    amounts = reward_settings(brand)
    params = {
        "brand": brand.pk,
        "welcome": amounts["welcome"],
        "referrer": amounts["referral_referrer"],
        "referee": amounts["referral_referee"],
    }
    with transaction.atomic():
        bulk_session()
        wallets, entries = bulk_fetchone(BULK_WALLETS_SQL, params)
        referrals, _, referral_entries, _ = bulk_fetchone(BULK_REFERRALS_SQL, params)
        ranks = bulk_execute(BULK_RANKS_SQL, params)
    return (
        f"{len(products)} products, {len(RANKS)} ranks, {len(ACHIEVEMENTS)} achievements; {wallets} wallets with "
        f"{entries + referral_entries} ledger entries, {referrals} referrals, {ranks} member ranks (bulk SQL)"
    )
