"""The ledger: members' wallets, immutable entries, staff adjustments, reversals and the audit.

The ledger rules:

* every change of a balance is one immutable ``LedgerEntry`` with a unique idempotency
  key: asking for the same key again returns the first entry and writes nothing;
* the wallet row is locked (``SELECT … FOR UPDATE``) before the entry is written and
  updated in the same transaction; several wallets are locked in ``user_id`` order;
* a debit larger than the balance is refused before anything is written (and the
  database refuses a negative balance anyway);
* only members hold a wallet: staff are refused here and by a database trigger.

Lifetime earned counts credits that are earnings (every credit except a reversal) minus
reversed earnings; ranks follow it. ``rewards_audit`` recomputes both from the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.services import hash_token
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, PermissionDenied
from rewards import lots, signals
from rewards.models import AuditRun, LedgerEntry, Wallet
from rewards.schemas import expiry_rule, reward_settings
from rewards.services.common import Kind, Reason, brand_default, member_require, referral_code_insert
from rewards.services.ranks import rank_recompute

if TYPE_CHECKING:
    from accounts.models import Brand, User


class InsufficientGems(Conflict):
    code = "insufficient_gems"


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


# ---------------------------------------------------------------------- membership


def member_enrol(*, user: User, context: RequestContext | None = None) -> Wallet:
    """Make a person a loyalty member: their wallet with the welcome credit, and their referral code.

    Called where a person becomes a member (sign-up, account claim, a test submitted with
    an email) and, for people who became members before that, by the first write that
    needs their wallet. Idempotent and safe under concurrent calls: they race on the
    wallet's unique ``user_id``, the loser waits for the winner's transaction and reads
    its row, so the welcome credit is written once (its idempotency key
    ``welcome:<person id>`` guarantees it in the database too). Staff are refused.
    """
    member_require(user)
    wallet = Wallet.objects.filter(user=user).first()
    with transaction.atomic():
        if wallet is None:
            try:
                with transaction.atomic():
                    wallet = Wallet.objects.create(user=user)
            except IntegrityError:
                wallet = Wallet.objects.get(user=user)
            else:
                _welcome_credit(wallet=wallet, user=user, context=context)
        referral_code_insert(user=user)
    return wallet


def _welcome_credit(*, wallet: Wallet, user: User, context: RequestContext | None) -> None:
    brand = brand_default()
    amount = reward_settings(brand)["welcome"]
    if amount > 0:
        entry_write(
            wallet=wallet,
            user=user,
            kind=Kind.CREDIT,
            amount=amount,
            reason=Reason.WELCOME,
            brand=brand,
            idempotency_key=f"welcome:{user.pk}",
            description="Welcome to FocusedRoom",
            context=context,
        )
    else:
        rank_recompute(user=user, lifetime=0, context=context)


def wallet_lock(*, user: User, context: RequestContext | None = None) -> Wallet:
    """The member's wallet, locked until the caller's transaction ends (made on first need)."""
    member_require(user)
    wallet = Wallet.objects.select_for_update().filter(user=user).first()
    if wallet is None:
        member_enrol(user=user, context=context)
        wallet = Wallet.objects.select_for_update().get(user=user)
    return wallet


def wallets_lock(*, users: list[User], context: RequestContext | None = None) -> dict[int, Wallet]:
    """Lock several members' wallets in one consistent order (user id) so no two writers deadlock."""
    for user in sorted(users, key=lambda u: u.pk):
        member_require(user)
        if not Wallet.objects.filter(user=user).exists():
            member_enrol(user=user, context=context)
    locked = Wallet.objects.select_for_update().filter(user__in=[u.pk for u in users]).order_by("user_id")
    return {w.user_id: w for w in locked}


# ------------------------------------------------------------------------- entries

_ENTRY_INSERT_SQL = """
INSERT INTO rewards_ledgerentry (wallet_id, kind, amount, reason, brand_id, source, description, actor_kind,
                                 actor_id, idempotency_key, reverses_id, created_at, expires_at, lot_id)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
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


def entry_write(
    *,
    wallet: Wallet,
    user: User,
    kind: str,
    amount: int,
    reason: str,
    brand: Brand,
    idempotency_key: str,
    source: str = "",
    description: str = "",
    actor: User | None = None,
    reverses: LedgerEntry | None = None,
    expires_at: datetime | None = None,
    lot: LedgerEntry | None = None,
    context: RequestContext | None = None,
) -> tuple[LedgerEntry, bool]:
    """Write one entry on a wallet the caller has locked. Returns ``(entry, created)``.

    The entry is inserted with ``ON CONFLICT (idempotency_key) DO NOTHING``: a key seen
    before (or being written by a concurrent transaction, which the insert waits for)
    returns the first entry and changes nothing.

    A credit is a lot: it carries ``expires_at``, by default from its brand's expiry rule at
    this instant (a reversal carries the date ``ledger_reverse`` gives it). ``lot`` is the
    credit an ``expiry`` entry expires. Nothing else about lots is written here.
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
    if kind == Kind.CREDIT and reason != Reason.REVERSAL and expires_at is None:
        expires_at = lots.expires_at_for(expiry_rule(brand), at=now)
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
        expires_at=expires_at,
        lot=lot,
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
                expires_at,
                lot.pk if lot else None,
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
    crossed = rank_crossed or min(old_lifetime, wallet.lifetime_earned) == 0
    # A wallet kept from before its holder became staff can still be corrected; staff hold no rank.
    if wallet.lifetime_earned != old_lifetime and crossed and not user.is_staff:
        rank_recompute(user=user, lifetime=wallet.lifetime_earned, context=context)
    if kind == Kind.CREDIT:
        signals.gems_credited.send(sender=LedgerEntry, entry=entry, user=user, context=context)
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
    brand: Brand | None = None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
    context: RequestContext | None = None,
) -> tuple[LedgerEntry, bool]:
    member_require(user)
    amount = _check_amount(amount)
    if reason not in Reason.values or reason in (Reason.REVERSAL, Reason.EXPIRY):
        raise ValidationError(
            {"reason": ["Unknown reason code (reversals go through ledger_reverse, expiries through the expiry job)."]}
        )
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValidationError({"idempotency_key": ["An idempotency key of 1 to 255 characters is required."]})
    with transaction.atomic():
        wallet = wallet_lock(user=user, context=context)
        return entry_write(
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
            context=context,
        )


def gems_credit(
    *,
    user: User,
    amount: int,
    reason: str,
    idempotency_key: str,
    brand: Brand | None = None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
    context: RequestContext | None = None,
) -> LedgerEntry:
    """Credit a member gems. The same idempotency key asked twice returns the first entry."""
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
        context=context,
    )
    return entry


def gems_debit(
    *,
    user: User,
    amount: int,
    reason: str,
    idempotency_key: str,
    brand: Brand | None = None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
    context: RequestContext | None = None,
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
        context=context,
    )
    return entry


@transaction.atomic
def ledger_reverse(
    *, entry: LedgerEntry, actor: User | None, reason: str, context: RequestContext | None = None
) -> tuple[LedgerEntry, bool]:
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
    wallet = Wallet.objects.select_for_update().select_related("user").get(pk=entry.wallet_id)
    existing = LedgerEntry.objects.filter(reverses=entry).first()
    if existing is not None:
        return existing, False
    if entry.reason == Reason.EXPIRY:
        raise ValidationError({"entry": ["Expired gems are not given back by a reversal; adjust the balance instead."]})
    expires_at = None
    if entry.kind == Kind.DEBIT:  # the gems given back keep the dates of the lots the debit spent
        expires_at = lots.given_back_expiry(wallet_replay(wallet=wallet), debit_id=entry.pk, now=timezone.now())
    return entry_write(
        wallet=wallet,
        user=wallet.user,
        kind=Kind.DEBIT if entry.kind == Kind.CREDIT else Kind.CREDIT,
        amount=entry.amount,
        reason=Reason.REVERSAL,
        brand=entry.brand,
        idempotency_key=f"reversal:{entry.pk}",
        source=f"entry:{entry.pk}",
        description=reason,
        actor=actor,
        reverses=entry,
        expires_at=expires_at,
        context=context,
    )


def wallet_replay(*, wallet: Wallet) -> lots.Replay:
    """The wallet's lots, replayed from its ledger (see ``rewards.lots``)."""
    rows = (
        LedgerEntry.objects.filter(wallet=wallet)
        .order_by("id")
        .values_list("id", "kind", "amount", "reason", "expires_at", "reverses_id", "lot_id", "created_at")
    )
    return lots.replay(rows.iterator(chunk_size=2000))


def wallet_adjust(
    *,
    wallet: Wallet,
    amount: int,
    reason: str,
    actor: User,
    idempotency_key: str,
    context: RequestContext | None = None,
) -> LedgerEntry:
    """Staff adjust a member's balance (positive: credit, negative: debit) through a ledger entry."""
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
        context=context,
    )
    return entry


# --------------------------------------------------------------------------- audit

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


def lots_audit(*, max_details: int = 100) -> tuple[int, int, list[dict[str, Any]]]:
    """Replay the lots of every wallet that has any (a credit with an expiry date) and check that
    what is left of the live lots is the wallet's balance, that every debit was covered by live
    lots and that every expiry entry took exactly what was left of its lot.

    Returns ``(lots checked, wallets that disagree, details)``. Wallets without an expiring
    lot have one kind of gems only: the balance check of ``AUDIT_SQL`` covers them.
    """
    with_lots = LedgerEntry.objects.filter(expires_at__isnull=False).values("wallet_id")
    balances = dict(Wallet.objects.filter(pk__in=with_lots).values_list("pk", "balance"))
    users = dict(Wallet.objects.filter(pk__in=balances).values_list("pk", "user_id"))
    rows = (
        LedgerEntry.objects.filter(wallet_id__in=with_lots)
        .order_by("wallet_id", "id")
        .values_list("wallet_id", "id", "kind", "amount", "reason", "expires_at", "reverses_id", "lot_id", "created_at")
    )
    checked = differing = 0
    details: list[dict[str, Any]] = []

    def finish(wallet_id: int, chunk: list) -> None:
        nonlocal checked, differing
        replayed = lots.replay(chunk)
        checked += len(replayed.lots)
        issues = list(replayed.issues)
        if replayed.balance != balances.get(wallet_id):
            issues.append(f"live lots hold {replayed.balance} gems, the balance is {balances.get(wallet_id)}")
        if issues:
            differing += 1
            if len(details) < max_details:
                details.append({"wallet_id": wallet_id, "user_id": users.get(wallet_id), "lots": issues[:5]})

    current, chunk = None, []
    for wallet_id, *row in rows.iterator(chunk_size=5000):
        if wallet_id != current and current is not None:
            finish(current, chunk)
            chunk = []
        current = wallet_id
        chunk.append(row)
    if current is not None:
        finish(current, chunk)
    return checked, differing, details


def rewards_audit(*, store: bool = True, max_details: int = 100) -> AuditRun:
    """Recompute every balance and lifetime earned from the ledger, in one SQL statement, and compare;
    then replay the lots of wallets that have expiring gems (``lots_audit``)."""
    run = AuditRun(started_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(AUDIT_SQL, [max_details])
        wallets, entries, differences, details = cursor.fetchone()
    run.wallets_checked = wallets
    run.entries_checked = int(entries)
    run.differences = differences
    run.details = [{k: int(v) for k, v in row.items()} for row in (details or [])]
    run.lots_checked, run.lot_differences, lot_details = lots_audit(max_details=max_details)
    run.details += lot_details
    run.finished_at = timezone.now()
    if store:
        run.save()
    return run
