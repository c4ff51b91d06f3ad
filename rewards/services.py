"""Every write of the rewards app: the ledger, earning and spending rules, referrals,
ranks, achievements, wishlists and goals.

The ledger rules:

* every change of a balance is one immutable ``LedgerEntry`` with a unique idempotency
  key: asking for the same key again returns the first entry and writes nothing;
* the wallet row is locked (``SELECT … FOR UPDATE``) before the entry is written and
  updated in the same transaction; several wallets are locked in ``user_id`` order;
* a debit larger than the balance is refused before anything is written (and the
  database refuses a negative balance anyway).

Lifetime earned counts credits that are earnings (every credit except a reversal) minus
reversed earnings; ranks follow it. ``rewards_audit`` recomputes both from the ledger.
"""

from __future__ import annotations

import logging
import secrets
import uuid
import zoneinfo
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts.selectors import DEFAULT_BRAND_SLUG, normalize_email
from accounts.services import hash_token
from engagement import selectors as engagement_selectors
from engagement import services as engagement_services
from focusedroom import signals as focusedroom_signals
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, NotFound, PermissionDenied
from rewards import signals
from rewards.models import (
    AchievementConfig,
    AuditRun,
    EngagementReward,
    Goal,
    IdempotencyRecord,
    LedgerEntry,
    MemberRank,
    Product,
    ProductScan,
    Rank,
    Redemption,
    Referral,
    ReferralCode,
    RewardItem,
    UserAchievement,
    Wallet,
    WishlistItem,
)
from rewards.schemas import reward_settings

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
Reason = LedgerEntry.Reason


class InsufficientGems(Conflict):
    code = "insufficient_gems"


# ------------------------------------------------------------------------- helpers


def brand_default():
    """FocusedRoom itself: the brand of gems that no other brand gives."""
    return accounts_selectors.brand_default()


def local_date(user: User, *, now=None) -> date:
    """Today in the member's time zone (UTC when it is unknown)."""
    try:
        tz = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    return (now or timezone.now()).astimezone(tz).date()


def _actor_kind(*, user: User, actor: User | None) -> str:
    if actor is None:
        return LedgerEntry.ActorKind.SYSTEM
    return LedgerEntry.ActorKind.PERSON if actor.pk == user.pk else LedgerEntry.ActorKind.STAFF


def _lifetime_delta(*, kind: str, reason: str, amount: int) -> int:
    if kind == Kind.CREDIT and reason != Reason.REVERSAL:
        return amount
    if kind == Kind.DEBIT and reason == Reason.REVERSAL:  # a reversed earning
        return -amount
    return 0


# -------------------------------------------------------------------------- wallets


def wallet_get_or_create(*, user: User) -> Wallet:
    """The person's wallet, created with the welcome credit the first time it is needed.

    Concurrent first calls race on the wallet's unique ``user_id``: the loser waits for
    the winner's transaction and reads its row, so the welcome credit is written once
    (its idempotency key ``welcome:<user id>`` guarantees it in the database too).
    """
    wallet = Wallet.objects.filter(user=user).first()
    if wallet is not None:
        return wallet
    with transaction.atomic():
        try:
            with transaction.atomic():
                wallet = Wallet.objects.create(user=user)
        except IntegrityError:
            return Wallet.objects.get(user=user)
        brand = brand_default()
        amount = reward_settings(brand)["welcome"]
        if amount > 0:
            _entry_write(
                wallet=wallet,
                user=user,
                kind=Kind.CREDIT,
                amount=amount,
                reason=Reason.WELCOME,
                brand=brand,
                idempotency_key=f"welcome:{user.pk}",
                description="Welcome to FocusedRoom",
            )
        else:
            rank_recompute(user=user, lifetime=0)
    return wallet


def _wallet_lock(*, user: User) -> Wallet:
    wallet = Wallet.objects.select_for_update().filter(user=user).first()
    if wallet is None:
        wallet_get_or_create(user=user)
        wallet = Wallet.objects.select_for_update().get(user=user)
    return wallet


def _wallets_lock(*, users: list[User]) -> dict[int, Wallet]:
    """Lock several wallets in one consistent order (user id) so no two writers deadlock."""
    for user in sorted(users, key=lambda u: u.pk):
        wallet_get_or_create(user=user)
    locked = Wallet.objects.select_for_update().filter(user__in=[u.pk for u in users]).order_by("user_id")
    return {w.user_id: w for w in locked}


_ENTRY_INSERT_SQL = """
INSERT INTO rewards_ledgerentry (wallet_id, kind, amount, reason, brand_id, source, description, actor_kind,
                                 actor_id, idempotency_key, reverses_id, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
"""

# One round trip after the entry: the wallet moves, open goals the new balance reaches are
# completed (once: only rows without a date), and we learn whether a rank threshold lies
# between the old and the new lifetime earned.
_WALLET_APPLY_SQL = """
WITH w AS (
    UPDATE rewards_wallet
       SET balance = balance + %(signed)s, lifetime_earned = lifetime_earned + %(delta)s, updated_at = %(now)s
     WHERE id = %(wallet)s
 RETURNING balance, lifetime_earned
), g AS (
    UPDATE rewards_goal SET completed_at = %(now)s
     WHERE %(credit)s AND user_id = %(user)s AND is_active AND completed_at IS NULL
       AND target_points <= (SELECT balance FROM w)
 RETURNING 1
)
SELECT w.balance, w.lifetime_earned,
       EXISTS (SELECT 1 FROM rewards_rank r
                WHERE r.is_active AND r.points_required > LEAST(%(old)s, w.lifetime_earned)
                  AND r.points_required <= GREATEST(%(old)s, w.lifetime_earned)),
       (SELECT COUNT(*) FROM g)
  FROM w
"""


def _existing_entry(*, wallet: Wallet, idempotency_key: str) -> LedgerEntry | None:
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and existing.wallet_id != wallet.pk:
        raise Conflict("This idempotency key was already used for another wallet.")
    return existing


def _entry_write(
    *,
    wallet: Wallet,
    user: User,
    kind: str,
    amount: int,
    reason: str,
    brand,
    idempotency_key: str,
    source: str = "",
    description: str = "",
    actor: User | None = None,
    reverses: LedgerEntry | None = None,
) -> tuple[LedgerEntry, bool]:
    """Write one entry on a wallet the caller has locked. Returns ``(entry, created)``.

    The entry is inserted with ``ON CONFLICT (idempotency_key) DO NOTHING``: a key seen
    before (or being written by a concurrent transaction, which the insert waits for)
    returns the first entry and changes nothing.
    """
    if kind == Kind.DEBIT and amount > wallet.balance:
        existing = _existing_entry(wallet=wallet, idempotency_key=idempotency_key)
        if existing is not None:  # a retry of a debit that went through
            return existing, False
        raise InsufficientGems(
            f"Not enough Insight Gems: this needs {amount} and the balance is {wallet.balance}.",
            fields={"amount": [f"The balance is {wallet.balance} gems; {amount} are needed."]},
            extra={"balance": wallet.balance, "needed": amount},
        )
    now = timezone.now()
    entry = LedgerEntry(
        wallet=wallet,
        kind=kind,
        amount=amount,
        reason=reason,
        brand=brand,
        source=source[:100],
        description=description[:500],
        actor=actor,
        actor_kind=_actor_kind(user=user, actor=actor),
        idempotency_key=idempotency_key,
        reverses=reverses,
        created_at=now,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _ENTRY_INSERT_SQL,
            [
                wallet.pk,
                entry.kind,
                entry.amount,
                entry.reason,
                brand.pk,
                entry.source,
                entry.description,
                entry.actor_kind,
                actor.pk if actor else None,
                idempotency_key,
                reverses.pk if reverses else None,
                now,
            ],
        )
        row = cursor.fetchone()
        if row is None:
            return _existing_entry(wallet=wallet, idempotency_key=idempotency_key), False
        entry.pk = row[0]
        entry._state.adding, entry._state.db = False, "default"
        signed = amount if kind == Kind.CREDIT else -amount
        old_lifetime = wallet.lifetime_earned
        cursor.execute(
            _WALLET_APPLY_SQL,
            {
                "signed": signed,
                "delta": _lifetime_delta(kind=kind, reason=reason, amount=amount),
                "now": now,
                "wallet": wallet.pk,
                "credit": kind == Kind.CREDIT,
                "user": user.pk,
                "old": old_lifetime,
            },
        )
        wallet.balance, wallet.lifetime_earned, rank_crossed, _ = cursor.fetchone()
    wallet.updated_at = now
    if wallet.lifetime_earned != old_lifetime and (rank_crossed or min(old_lifetime, wallet.lifetime_earned) == 0):
        rank_recompute(user=user, lifetime=wallet.lifetime_earned)
    if kind == Kind.CREDIT:
        signals.gems_credited.send(sender=LedgerEntry, entry=entry, user=user)
    return entry, True


def _check_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": ["The amount is a whole number of gems greater than 0."]})
    return amount


def _post(
    *,
    user: User,
    kind: str,
    amount: int,
    reason: str,
    idempotency_key: str,
    brand=None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
) -> tuple[LedgerEntry, bool]:
    amount = _check_amount(amount)
    if reason not in Reason.values or reason == Reason.REVERSAL:
        raise ValidationError({"reason": ["Unknown reason code (reversals go through ledger_reverse)."]})
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValidationError({"idempotency_key": ["An idempotency key of 1 to 255 characters is required."]})
    with transaction.atomic():
        wallet = _wallet_lock(user=user)
        return _entry_write(
            wallet=wallet,
            user=user,
            kind=kind,
            amount=amount,
            reason=reason,
            brand=brand or brand_default(),
            idempotency_key=idempotency_key,
            source=source,
            description=description,
            actor=actor,
        )


def gems_credit(
    *,
    user: User,
    amount: int,
    reason: str,
    idempotency_key: str,
    brand=None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
) -> LedgerEntry:
    """Credit gems. The same idempotency key asked twice returns the first entry."""
    entry, _ = _post(
        user=user,
        kind=Kind.CREDIT,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        brand=brand,
        source=source,
        description=description,
        actor=actor,
    )
    return entry


def gems_debit(
    *,
    user: User,
    amount: int,
    reason: str,
    idempotency_key: str,
    brand=None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
) -> LedgerEntry:
    """Debit gems; refused with ``InsufficientGems`` (nothing written) when the balance is short."""
    entry, _ = _post(
        user=user,
        kind=Kind.DEBIT,
        amount=amount,
        reason=reason,
        idempotency_key=idempotency_key,
        brand=brand,
        source=source,
        description=description,
        actor=actor,
    )
    return entry


@transaction.atomic
def ledger_reverse(*, entry: LedgerEntry, actor: User | None, reason: str) -> tuple[LedgerEntry, bool]:
    """Reverse an entry with a new entry of the opposite kind that references it.

    An entry is reversed at most once (the database's unique ``reverses`` says so too);
    asking again returns the first reversal. Reversing a credit the member already
    spent is refused.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why this entry is reversed."]})
    if entry.reason == Reason.REVERSAL:
        raise ValidationError({"entry": ["A reversal cannot be reversed; adjust the balance instead."]})
    user = Wallet.objects.select_related("user").get(pk=entry.wallet_id).user
    wallet = _wallet_lock(user=user)
    existing = LedgerEntry.objects.filter(reverses=entry).first()
    if existing is not None:
        return existing, False
    return _entry_write(
        wallet=wallet,
        user=user,
        kind=Kind.DEBIT if entry.kind == Kind.CREDIT else Kind.CREDIT,
        amount=entry.amount,
        reason=Reason.REVERSAL,
        brand=entry.brand,
        idempotency_key=f"reversal:{entry.pk}",
        source=f"entry:{entry.pk}",
        description=reason,
        actor=actor,
        reverses=entry,
    )


def wallet_adjust(*, wallet: Wallet, amount: int, reason: str, actor: User, idempotency_key: str) -> LedgerEntry:
    """Staff adjust a balance (positive: credit, negative: debit) through a ledger entry."""
    if not actor.has_perm("rewards.adjust_wallet"):
        raise PermissionDenied("You do not have permission to adjust balances.")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationError({"amount": ["Enter a whole number of gems other than 0 (negative to debit)."]})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the balance is adjusted."]})
    entry, _ = _post(
        user=wallet.user,
        kind=Kind.CREDIT if amount > 0 else Kind.DEBIT,
        amount=abs(amount),
        reason=Reason.ADJUSTMENT,
        idempotency_key=f"adjust:{wallet.pk}:{hash_token(idempotency_key)}",
        source=f"staff:{actor.pk}",
        description=reason,
        actor=actor,
    )
    return entry


# ------------------------------------------------------------------------------ audit

AUDIT_SQL = """
WITH sums AS (
    SELECT wallet_id,
           COUNT(*) AS entries,
           SUM(CASE WHEN kind = 'CREDIT' THEN amount ELSE -amount END) AS balance,
           SUM(CASE WHEN kind = 'CREDIT' AND reason <> 'reversal' THEN amount
                    WHEN kind = 'DEBIT' AND reason = 'reversal' THEN -amount
                    ELSE 0 END) AS lifetime
    FROM rewards_ledgerentry
    GROUP BY wallet_id
),
audit AS (
    SELECT w.id AS wallet_id, w.user_id, w.balance, COALESCE(s.balance, 0) AS ledger_balance,
           w.lifetime_earned, COALESCE(s.lifetime, 0) AS ledger_lifetime_earned, COALESCE(s.entries, 0) AS entries,
           (w.balance <> COALESCE(s.balance, 0) OR w.lifetime_earned <> COALESCE(s.lifetime, 0)) AS differs
    FROM rewards_wallet w
    LEFT JOIN sums s ON s.wallet_id = w.id

)
SELECT (SELECT COUNT(*) FROM audit),
       (SELECT COALESCE(SUM(entries), 0) FROM audit),
       (SELECT COUNT(*) FROM audit WHERE differs),
       COALESCE((SELECT json_agg(d ORDER BY d.wallet_id) FROM (
            SELECT wallet_id, user_id, balance, ledger_balance, lifetime_earned, ledger_lifetime_earned
            FROM audit WHERE differs ORDER BY wallet_id LIMIT %s) d), '[]'::json)
"""


def rewards_audit(*, store: bool = True, max_details: int = 100) -> AuditRun:
    """Recompute every balance and lifetime earned from the ledger, in one SQL statement, and compare."""
    run = AuditRun(started_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_SQL, [max_details])
        wallets, entries, differences, details = cursor.fetchone()
    run.wallets_checked = wallets
    run.entries_checked = int(entries)
    run.differences = differences
    run.details = [{k: int(v) for k, v in row.items()} for row in (details or [])]
    run.finished_at = timezone.now()
    if store:
        run.save()
    return run


# ------------------------------------------------------------------ engagement rewards


@transaction.atomic
def daily_reward_claim(*, user: User, context: RequestContext | None = None) -> tuple[EngagementReward, bool]:
    """The daily login reward, once per calendar day in the member's time zone.

    Returns ``(reward, created)``; a second claim the same day returns the first reward.
    The wallet lock serialises a person's claims; the database's unique key per person,
    reward type and day is the final word.
    """
    today = local_date(user)
    wallet = _wallet_lock(user=user)
    rewards = EngagementReward.objects.filter(user=user, reward_type=EngagementReward.Type.DAILY_LOGIN)
    existing = rewards.filter(day=today).first()
    if existing is not None:
        return existing, False
    previous = rewards.filter(day=today - timedelta(days=1)).only("streak").first()
    streak = previous.streak + 1 if previous else 1
    brand = brand_default()
    amount = reward_settings(brand)["daily_login"]
    entry = None
    if amount > 0:
        entry, _ = _entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=amount,
            reason=Reason.DAILY_LOGIN,
            brand=brand,
            idempotency_key=f"daily_login:{user.pk}:{today.isoformat()}",
            source=f"daily_login:{today.isoformat()}",
            description=f"Day {streak} of your login streak",
        )
    reward = EngagementReward.objects.create(
        user=user,
        reward_type=EngagementReward.Type.DAILY_LOGIN,
        reward_amount=amount,
        day=today,
        streak=streak,
        entry=entry,
    )
    return reward, True


@transaction.atomic
def email_verified_reward(*, user: User) -> EngagementReward | None:
    """The email-verified bonus, once per person."""
    wallet = _wallet_lock(user=user)
    if EngagementReward.objects.filter(user=user, reward_type=EngagementReward.Type.EMAIL_VERIFIED).exists():
        return None
    brand = brand_default()
    amount = reward_settings(brand)["email_verified"]
    entry = None
    if amount > 0:
        entry, _ = _entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=amount,
            reason=Reason.EMAIL_VERIFIED,
            brand=brand,
            idempotency_key=f"email_verified:{user.pk}",
            description="Thank you for verifying your email address",
        )
    return EngagementReward.objects.create(
        user=user,
        reward_type=EngagementReward.Type.EMAIL_VERIFIED,
        reward_amount=amount,
        day=local_date(user),
        entry=entry,
    )


@transaction.atomic
def quiz_reward(*, result: Any, user: User | None) -> EngagementReward | None:
    """Gems for a completed Big Five test, the first time per report (quiz result).

    Records the amount on the result through ``engagement.services.quiz_result_record_gems``.
    """
    if user is None or result is None or result.pk is None:
        return None
    wallet = _wallet_lock(user=user)
    key = f"quiz:{result.pk}"
    if LedgerEntry.objects.filter(idempotency_key=key).exists():
        return None
    brand = brand_default()
    amount = reward_settings(brand)["quiz_completed"]
    if amount <= 0:
        return None
    entry, _ = _entry_write(
        wallet=wallet,
        user=user,
        kind=Kind.CREDIT,
        amount=amount,
        reason=Reason.QUIZ_COMPLETED,
        brand=brand,
        idempotency_key=key,
        source=f"quiz_result:{result.pk}",
        description="Big Five test completed",
    )
    reward = EngagementReward.objects.create(
        user=user,
        reward_type=EngagementReward.Type.QUIZ_COMPLETED,
        reward_amount=amount,
        day=local_date(user),
        entry=entry,
    )
    engagement_services.quiz_result_record_gems(result=result, gems=amount)
    return reward


# ---------------------------------------------------------------------------- ranks


def rank_for(*, brand_id: int, lifetime: int) -> Rank | None:
    """The brand's highest active rank reached with this lifetime earned."""
    return (
        Rank.objects.filter(brand_id=brand_id, is_active=True, points_required__lte=lifetime)
        .order_by("-points_required")
        .first()
    )


def rank_recompute(*, user: User, lifetime: int | None = None) -> list[MemberRank]:
    """Bring the person's rank in every brand in line with their lifetime earned.

    Each change is an event (``rank_changed`` in the event log and the
    ``rewards.signals.rank_changed`` signal). Returns the rows that changed.
    """
    if lifetime is None:
        lifetime = Wallet.objects.filter(user=user).values_list("lifetime_earned", flat=True).first() or 0
    targets = {
        r.brand_id: r
        for r in Rank.objects.filter(is_active=True, points_required__lte=lifetime)
        .select_related("brand")
        .order_by("brand_id", "-points_required")
        .distinct("brand_id")
    }
    current = {
        m.brand_id: m
        for m in MemberRank.objects.select_for_update(of=("self",)).select_related("rank").filter(user=user)
    }
    changed = []
    now = timezone.now()
    for brand_id in sorted(set(targets) | set(current)):
        new_rank = targets.get(brand_id)
        row = current.get(brand_id)
        old_rank = row.rank if row else None
        if (new_rank.pk if new_rank else None) == (old_rank.pk if old_rank else None):
            continue
        if row is None:
            row = MemberRank.objects.create(user=user, brand_id=brand_id, rank=new_rank, changed_at=now)
        else:
            row.rank, row.changed_at = new_rank, now
            row.save(update_fields=["rank", "changed_at"])
        brand = new_rank.brand if new_rank else accounts_selectors.brand_get(brand_id)
        engagement_services.event_record(
            event_type="rank_changed",
            user=user,
            brand=brand,
            metadata={
                "from": old_rank.key if old_rank else None,
                "to": new_rank.key if new_rank else None,
                "lifetime_earned": lifetime,
            },
        )
        signals.rank_changed.send(sender=MemberRank, user=user, brand=brand, old_rank=old_rank, new_rank=new_rank)
        changed.append(row)
    return changed


def ranks_recompute_all(*, batch_size: int = 1000) -> int:
    """Recompute every member's ranks (after the rank configuration changed)."""
    changed = 0
    last = 0
    while True:
        batch = list(
            Wallet.objects.filter(user_id__gt=last)
            .order_by("user_id")
            .values_list("user_id", "lifetime_earned")[:batch_size]
        )
        if not batch:
            return changed
        users = accounts_selectors.people(include_deleted=True).in_bulk([uid for uid, _ in batch])
        for user_id, lifetime in batch:
            with transaction.atomic():
                changed += len(rank_recompute(user=users[user_id], lifetime=lifetime))
        last = batch[-1][0]


# ---------------------------------------------------------------------------- scans


def parse_qr(payload: str) -> tuple[str, str]:
    """A product QR code holds ``<brand slug>:<sku>`` (optionally prefixed ``fr:``)."""
    payload = (payload or "").strip()
    payload = payload.removeprefix("fr:")
    brand_slug, sep, sku = payload.partition(":")
    if not sep or not brand_slug or not sku:
        raise ValidationError({"qr": ["This QR code is not a FocusedRoom product code (brand:sku)."]})
    return brand_slug, sku


@transaction.atomic
def product_scan(
    *,
    user: User,
    sku: str = "",
    brand: str = "",
    qr: str = "",
    context: RequestContext | None = None,
) -> tuple[ProductScan, bool]:
    """A member scans a product: ``points_award`` × their rank multiplier for the product's brand.

    One award per member, product and day (member's time zone): a repeat scan that day
    returns the first scan, awards nothing and is still logged. Unknown SKU -> NotFound.
    """
    if qr:
        brand, sku = parse_qr(qr)
    sku, brand = (sku or "").strip(), (brand or "").strip() or DEFAULT_BRAND_SLUG
    if not sku:
        raise ValidationError({"sku": ["Give the product's SKU (or a QR code payload)."]})
    product = (
        Product.objects.select_related("brand")
        .filter(sku=sku, brand__slug=brand, is_active=True, brand__is_active=True)
        .first()
    )
    if product is None:
        raise NotFound(f"No product with SKU {sku!r} for brand {brand!r}.", fields={"sku": ["Unknown SKU."]})
    today = local_date(user)
    wallet = _wallet_lock(user=user)
    existing = ProductScan.objects.filter(user=user, product=product, day=today).first()
    if existing is not None:
        engagement_services.event_record(
            event_type="product_scanned",
            user=user,
            brand=product.brand,
            product_id=product.pk,
            points_awarded=0,
            metadata={"sku": product.sku, "scan_id": existing.pk, "repeat": True},
            context=context,
        )
        return existing, False
    rank = rank_for(brand_id=product.brand_id, lifetime=wallet.lifetime_earned)
    multiplier = rank.point_multiplier if rank else Decimal("1.00")
    points = int((Decimal(product.points_award) * multiplier).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    entry = None
    if points > 0:
        entry, _ = _entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=points,
            reason=Reason.PRODUCT_SCAN,
            brand=product.brand,
            idempotency_key=f"scan:{user.pk}:{product.pk}:{today.isoformat()}",
            source=f"product:{product.pk}",
            description=f"Scanned {product.name}"
            + (f" (×{multiplier} {rank.name})" if rank and multiplier != 1 else ""),
        )
    scan = ProductScan.objects.create(
        user=user, product=product, day=today, points_awarded=points, multiplier=multiplier, entry=entry
    )
    event = engagement_services.event_record(
        event_type="product_scanned",
        user=user,
        brand=product.brand,
        product_id=product.pk,
        points_awarded=points,
        metadata={"sku": product.sku, "scan_id": scan.pk, "multiplier": str(multiplier)},
        context=context,
    )
    achievements_evaluate(user=user, types=[AchievementConfig.Type.SCAN_COUNT, AchievementConfig.Type.PURCHASE_AMOUNT])
    signals.product_scanned.send(sender=ProductScan, user=user, product=product, points_awarded=points, event=event)
    return scan, True


# ---------------------------------------------------------------------- redemptions


@transaction.atomic
def redemption_create(
    *,
    user: User,
    product: Product | None = None,
    reward_item: RewardItem | None = None,
    idempotency_key: str = "",
    context: RequestContext | None = None,
) -> tuple[Redemption, bool]:
    """Spend gems on a product or a reward item (a DEBIT); refused when the balance is short."""
    if (product is None) == (reward_item is None):
        raise ValidationError({"non_field_errors": ["Choose either a product or a reward item."]})
    if product is not None:
        if not product.is_active or product.redemption_cost is None:
            raise ValidationError({"product": ["This product cannot be redeemed."]})
        cost, brand, name = product.redemption_cost, product.brand, product.name
    else:
        if not reward_item.is_active:
            raise ValidationError({"reward_item": ["This reward is no longer available."]})
        cost, brand, name = reward_item.cost, reward_item.brand, reward_item.name
    key = f"redemption:{user.pk}:{hash_token(idempotency_key) if idempotency_key else uuid.uuid4().hex}"
    wallet = _wallet_lock(user=user)
    entry, created = _entry_write(
        wallet=wallet,
        user=user,
        kind=Kind.DEBIT,
        amount=cost,
        reason=Reason.REDEMPTION,
        brand=brand,
        idempotency_key=key,
        source=f"product:{product.pk}" if product else f"reward_item:{reward_item.pk}",
        description=f"Redeemed {name}",
        actor=user,
    )
    if not created:
        return Redemption.objects.get(entry=entry), False
    redemption = Redemption.objects.create(user=user, product=product, reward_item=reward_item, cost=cost, entry=entry)
    engagement_services.event_record(
        event_type="reward_redeemed",
        user=user,
        brand=brand,
        product_id=product.pk if product else None,
        points_awarded=-cost,
        metadata={"redemption_id": redemption.pk, "reward_item": reward_item.key if reward_item else None},
        context=context,
    )
    return redemption, True


@transaction.atomic
def redemption_reverse(*, redemption: Redemption, actor: User, reason: str) -> Redemption:
    """Staff refund a redemption: a CREDIT that references the DEBIT. Asking twice is harmless."""
    if not actor.has_perm("rewards.reverse_redemption"):
        raise PermissionDenied("You do not have permission to reverse redemptions.")
    redemption = Redemption.objects.select_for_update().select_related("entry").get(pk=redemption.pk)
    if redemption.status == Redemption.Status.REVERSED:
        return redemption
    reversal, _ = ledger_reverse(entry=redemption.entry, actor=actor, reason=reason)
    redemption.status = Redemption.Status.REVERSED
    redemption.reversal_entry = reversal
    redemption.reversed_by = actor
    redemption.reversal_reason = reason.strip()[:500]
    redemption.reversed_at = timezone.now()
    redemption.save(update_fields=["status", "reversal_entry", "reversed_by", "reversal_reason", "reversed_at"])
    return redemption


@transaction.atomic
def entry_reverse_by_staff(*, entry: LedgerEntry, actor: User, reason: str) -> tuple[LedgerEntry, bool]:
    """Staff reverse any entry (a redemption's entry goes through ``redemption_reverse``)."""
    if not actor.has_perm("rewards.reverse_ledgerentry"):
        raise PermissionDenied("You do not have permission to reverse ledger entries.")
    redemption = Redemption.objects.filter(entry=entry).first()
    if redemption is not None:
        if not actor.has_perm("rewards.reverse_redemption"):
            raise PermissionDenied("You do not have permission to reverse redemptions.")
        redemption = redemption_reverse(redemption=redemption, actor=actor, reason=reason)
        return redemption.reversal_entry, True
    return ledger_reverse(entry=entry, actor=actor, reason=reason)


# ------------------------------------------------------------------------ referrals


def referral_code_for(*, user: User) -> ReferralCode:
    """The member's active referral code, created on first use (unguessable, 64 random bits)."""
    code = ReferralCode.objects.filter(user=user, is_active=True).first()
    if code is not None:
        return code
    for _ in range(5):
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=secrets.token_urlsafe(8))
        except IntegrityError:
            code = ReferralCode.objects.filter(user=user, is_active=True).first()
            if code is not None:
                return code
    raise Conflict("Could not create a referral code; try again.")


def referral_link(*, code: ReferralCode) -> str:
    return settings.SITE_URL + reverse("referral-landing", args=[code.code])


def _mailbox(email: str) -> str:
    """The mailbox an address delivers to: lower case, without a ``+tag``."""
    local, _, domain = normalize_email(email).partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


@transaction.atomic
def referral_create_pending(*, referee: User, code: str, context: RequestContext | None = None) -> Referral:
    """A new person arrived with a code: a ``pending`` referral (one per new person).

    Refused for an unknown code and for self-referral (the same person or the same
    mailbox). When the person's email is already verified it converts at once.
    """
    code = (code or "").strip()[:50]
    if not code:
        raise ValidationError({"referral_code": ["Enter a referral code."]})
    referral_code = ReferralCode.objects.select_related("user").filter(code=code, is_active=True).first()
    referrer = referral_code.user if referral_code else None
    if referrer is None or referrer.deleted_at is not None or not referrer.is_active:
        raise ValidationError({"referral_code": ["This referral code is not valid."]})
    if referrer.pk == referee.pk or _mailbox(referrer.email) == _mailbox(referee.email):
        raise ValidationError({"referral_code": ["You cannot refer yourself."]})
    existing = Referral.objects.filter(referee=referee).first()
    if existing is not None:
        return existing
    brand = brand_default()
    window = reward_settings(brand)["referral_window_days"]
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer=referrer,
                referee=referee,
                referral_code=code,
                email=referee.email,
                brand=brand,
                expires_at=timezone.now() + timedelta(days=window),
            )
    except IntegrityError:
        return Referral.objects.get(referee=referee)
    engagement_services.event_record(
        event_type="referral_initiated",
        user=referrer,
        brand=brand,
        metadata={"referral_id": referral.pk, "referee_id": referee.pk},
        context=context,
    )
    if referee.is_email_verified:
        referral_convert(referee=referee, context=context)
        referral.refresh_from_db()
    return referral


@transaction.atomic
def referral_convert(*, referee: User, context: RequestContext | None = None) -> Referral | None:
    """The referee verified their email: both sides are rewarded, once. Expired ones never convert."""
    referral = Referral.objects.select_for_update().filter(referee=referee).first()
    if referral is None or referral.status != Referral.Status.PENDING:
        return None
    now = timezone.now()
    if referral.expires_at <= now:
        referral.status = Referral.Status.EXPIRED
        referral.save(update_fields=["status"])
        return None
    referrer = accounts_selectors.person_get(referral.referrer_id, include_deleted=True)
    brand = accounts_selectors.brand_get(referral.brand_id)
    amounts = reward_settings(brand)
    wallets = _wallets_lock(users=[referrer, referee])
    given = {}
    for side, person, reason in (
        ("referrer", referrer, Reason.REFERRAL_REFERRER),
        ("referee", referee, Reason.REFERRAL_REFEREE),
    ):
        amount = amounts[f"referral_{side}"]
        given[side] = amount
        if amount > 0:
            _entry_write(
                wallet=wallets[person.pk],
                user=person,
                kind=Kind.CREDIT,
                amount=amount,
                reason=reason,
                brand=brand,
                idempotency_key=f"referral:{referral.pk}:{side}",
                source=f"referral:{referral.pk}",
                description="Your friend joined FocusedRoom" if side == "referrer" else "Welcome from your friend",
            )
    referral.status = Referral.Status.CONVERTED
    referral.converted_at = now
    referral.points_awarded_to_referrer = given["referrer"]
    referral.points_awarded_to_referee = given["referee"]
    referral.save(update_fields=["status", "converted_at", "points_awarded_to_referrer", "points_awarded_to_referee"])
    engagement_services.event_record(
        event_type="referral_converted",
        user=referrer,
        brand=brand,
        points_awarded=given["referrer"],
        metadata={"referral_id": referral.pk, "referee_id": referee.pk},
        context=context,
    )
    achievements_evaluate(user=referrer, types=[AchievementConfig.Type.REFERRAL_COUNT])
    signals.referral_converted.send(
        sender=Referral, referral=referral, referrer=referrer, referee=referee, context=context
    )
    focusedroom_signals.goal_reached.send(sender=Referral, user=referee, goal="referral_converted", context=context)
    return referral


def referrals_expire(*, now=None) -> int:
    """Pending referrals past their window become ``expired``; returns how many."""
    return Referral.objects.filter(status=Referral.Status.PENDING, expires_at__lte=now or timezone.now()).update(
        status=Referral.Status.EXPIRED
    )


# ----------------------------------------------------------------------- achievements

TIMEFRAME_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def achievement_metric(*, user: User, config: AchievementConfig, now=None) -> Decimal:
    """The member's value of the config's metric, aggregated in SQL."""
    criteria = config.criteria
    metric = criteria["metric"]
    days = TIMEFRAME_DAYS.get(criteria.get("timeframe", "all_time"))
    since = (now or timezone.now()) - timedelta(days=days) if days else None
    brand_id = config.brand_id

    def window(field: str) -> Q:
        return Q(**{f"{field}__gte": since}) if since else Q()

    if metric in ("scan_count", "purchase_amount"):
        scans = ProductScan.objects.filter(window("created_at"), user=user)
        if brand_id:
            scans = scans.filter(product__brand_id=brand_id)
        if metric == "scan_count":
            return Decimal(scans.count())
        return scans.aggregate(total=Sum("product__msrp"))["total"] or Decimal(0)
    if metric == "referral_count":
        referrals = Referral.objects.filter(window("converted_at"), referrer=user, status=Referral.Status.CONVERTED)
        if brand_id:
            referrals = referrals.filter(brand_id=brand_id)
        return Decimal(referrals.count())
    if metric == "wishlist_items":
        items = WishlistItem.objects.filter(window("added_at"), user=user)
        if brand_id:
            items = items.filter(product__brand_id=brand_id)
        return Decimal(items.count())
    if metric == "achievements_unlocked":
        unlocked = UserAchievement.objects.filter(window("completed_at"), user=user, completed=True).exclude(
            config=config
        )
        if brand_id:
            unlocked = unlocked.filter(Q(config__brand_id=brand_id) | Q(config__brand__isnull=True))
        return Decimal(unlocked.count())
    return Decimal(
        engagement_selectors.event_count(user=user, event_type=criteria["event_type"], since=since, brand_id=brand_id)
    )


def criteria_met(*, criteria: dict[str, Any], value: Decimal) -> bool:
    target = Decimal(str(criteria["value"]))
    return {">=": value >= target, ">": value > target, "==": value == target}[criteria["operator"]]


def _achievement_award(*, row: UserAchievement, config: AchievementConfig, user: User, now) -> None:
    points = config.points
    entry = None
    if points > 0:
        wallet = _wallet_lock(user=user)
        entry, _ = _entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=points,
            reason=Reason.ACHIEVEMENT,
            brand=config.brand or brand_default(),
            idempotency_key=f"achievement:{config.pk}:{user.pk}",
            source=f"achievement:{config.pk}",
            description=f"Achievement unlocked: {config.name}",
        )
    row.completed, row.completed_at, row.points_rewarded, row.entry = True, now, points, entry
    engagement_services.event_record(
        event_type="achievement_unlocked",
        user=user,
        brand=config.brand,
        points_awarded=points,
        metadata={"achievement_key": config.achievement_key, "config_id": config.pk},
    )


@transaction.atomic
def achievements_evaluate(*, user: User, types: list[str] | None = None) -> list[UserAchievement]:
    """Update the member's progress on the active achievements of these types.

    A met criterion completes the achievement and awards its gems exactly once (the
    progress row is locked, completion is final in the database, and the credit has
    the idempotency key ``achievement:<config>:<person>``). Unlocks cascade to
    ``achievement_unlocked`` achievements.
    """
    unlocked: list[UserAchievement] = []
    pending_types = list(types) if types else [t for t, _ in AchievementConfig.Type.choices]
    for _ in range(5):  # cascade depth: unlocks may unlock "achievements unlocked" achievements
        configs = list(
            AchievementConfig.objects.filter(is_active=True, achievement_type__in=pending_types)
            .exclude(pk__in=UserAchievement.objects.filter(user=user, completed=True).values("config_id"))
            .select_related("brand")
        )
        if not configs:
            break
        # Lock order everywhere: the wallet first, then progress rows.
        _wallet_lock(user=user)
        newly = []
        now = timezone.now()
        for config in configs:
            value = achievement_metric(user=user, config=config, now=now)
            row, _ = UserAchievement.objects.select_for_update().get_or_create(user=user, config=config)
            if row.completed:
                continue
            row.progress = max(value, Decimal(0))
            row.updated_at = now
            if criteria_met(criteria=config.criteria, value=value):
                _achievement_award(row=row, config=config, user=user, now=now)
                newly.append((row, config))
            row.save()
        for row, config in newly:
            signals.achievement_unlocked.send(sender=UserAchievement, user=user, achievement=row, config=config)
        unlocked += [row for row, _ in newly]
        if not newly:
            break
        pending_types = [AchievementConfig.Type.ACHIEVEMENT_UNLOCKED]
    return unlocked


def achievements_recompute(*, config: AchievementConfig | None = None, batch_size: int = 500) -> dict[str, int]:
    """Rebuild progress (after a criterion changed) for every person with rewards activity.

    Progress is recomputed from the recorded scans, referrals, wishlists and event log;
    completed achievements stay completed; newly met ones are awarded once.
    """
    types = [config.achievement_type] if config else None
    people = unlocked = 0
    last = 0
    while True:
        ids = list(
            Wallet.objects.filter(user_id__gt=last).order_by("user_id").values_list("user_id", flat=True)[:batch_size]
        )
        if not ids:
            return {"people": people, "unlocked": unlocked}
        for user in accounts_selectors.people(include_deleted=True).filter(pk__in=ids).order_by("pk"):
            unlocked += len(achievements_evaluate(user=user, types=types))
            people += 1
        last = ids[-1]


# -------------------------------------------------------------------- wishlists, goals


@transaction.atomic
def wishlist_add(*, user: User, product: Product, context: RequestContext | None = None) -> tuple[WishlistItem, bool]:
    """Add a product to the member's wishlist (adding it twice returns the first item)."""
    if not product.is_active:
        raise ValidationError({"product": ["This product is not available."]})
    try:
        with transaction.atomic():
            item = WishlistItem.objects.create(user=user, product=product)
    except IntegrityError:
        return WishlistItem.objects.get(user=user, product=product), False
    engagement_services.event_record(
        event_type="wishlist_added", user=user, brand=product.brand, product_id=product.pk, context=context
    )
    achievements_evaluate(user=user, types=[AchievementConfig.Type.WISHLIST_ITEMS])
    return item, True


@transaction.atomic
def wishlist_remove(*, user: User, item: WishlistItem) -> None:
    if item.user_id != user.pk:
        raise NotFound("Not found.")
    item.delete()
    achievements_evaluate(user=user, types=[AchievementConfig.Type.WISHLIST_ITEMS])


def _goal_fields(
    *, goal_type: str, goal_name: str, target_points: int | None, product: Product | None
) -> tuple[str, int, Product | None]:
    errors: dict[str, list[str]] = {}
    if goal_type not in Goal.Type.values:
        errors["goal_type"] = [f"Choose one of {', '.join(Goal.Type.values)}."]
    if goal_type == Goal.Type.WISHLIST_ITEM:
        if product is None:
            errors["product"] = ["Choose the product this goal saves for."]
        elif target_points is None:
            target_points = product.redemption_cost
    if target_points is None or isinstance(target_points, bool) or not isinstance(target_points, int):
        errors.setdefault("target_points", ["Enter the number of gems to reach."])
    elif target_points <= 0:
        errors["target_points"] = ["The target is at least 1 gem."]
    goal_name = (goal_name or "").strip() or (product.name if product else "")
    if not goal_name:
        errors["goal_name"] = ["Give the goal a name."]
    if errors:
        raise ValidationError(errors)
    return goal_name[:255], target_points, product


@transaction.atomic
def goal_create(
    *,
    user: User,
    goal_name: str = "",
    target_points: int | None = None,
    goal_type: str = Goal.Type.CUSTOM,
    product: Product | None = None,
) -> Goal:
    """A savings goal; it is completed (once) as soon as the balance reaches the target."""
    goal_name, target_points, product = _goal_fields(
        goal_type=goal_type, goal_name=goal_name, target_points=target_points, product=product
    )
    wallet = _wallet_lock(user=user)
    return Goal.objects.create(
        user=user,
        goal_type=goal_type,
        goal_name=goal_name,
        target_points=target_points,
        product=product,
        completed_at=timezone.now() if wallet.balance >= target_points else None,
    )


@transaction.atomic
def goal_update(*, goal: Goal, data: dict[str, Any]) -> Goal:
    """Rename, pause/resume or retarget a goal; a completed goal keeps its completion date."""
    goal = Goal.objects.select_for_update().get(pk=goal.pk)
    if "target_points" in data and goal.completed_at is not None and data["target_points"] != goal.target_points:
        raise ValidationError({"target_points": ["This goal is already reached; create a new goal instead."]})
    name, target, _ = _goal_fields(
        goal_type=goal.goal_type,
        goal_name=data.get("goal_name", goal.goal_name),
        target_points=data.get("target_points", goal.target_points),
        product=goal.product,
    )
    goal.goal_name, goal.target_points = name, target
    if "is_active" in data:
        goal.is_active = bool(data["is_active"])
    if goal.completed_at is None and goal.is_active:
        balance = Wallet.objects.filter(user_id=goal.user_id).values_list("balance", flat=True).first() or 0
        if balance >= goal.target_points:
            goal.completed_at = timezone.now()
    goal.save()
    return goal


def goal_delete(*, goal: Goal) -> None:
    goal.delete()


# ------------------------------------------------------------------- API idempotency


def idempotency_begin(*, user: User, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Claim an ``Idempotency-Key`` for the caller's transaction (concurrent claims wait)."""
    return IdempotencyRecord.objects.get_or_create(user=user, key=key, defaults={"fingerprint": fingerprint})


def idempotency_finish(*, record: IdempotencyRecord, status_code: int, body: Any) -> None:
    record.status_code = status_code
    record.response_body = body
    record.save(update_fields=["status_code", "response_body"])


# -------------------------------------------------------------------- dashboard data


def member_referral_summary(*, user: User) -> dict[str, Any]:
    code = referral_code_for(user=user)
    counts = Referral.objects.filter(referrer=user).aggregate(
        pending=Count("id", filter=Q(status=Referral.Status.PENDING)),
        converted=Count("id", filter=Q(status=Referral.Status.CONVERTED)),
        expired=Count("id", filter=Q(status=Referral.Status.EXPIRED)),
        gems=Sum("points_awarded_to_referrer"),
    )
    counts["gems"] = counts["gems"] or 0
    return {"code": code.code, "link": referral_link(code=code), **counts}
