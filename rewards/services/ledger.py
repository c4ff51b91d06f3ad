"""The ledger: members' wallets, immutable entries, staff adjustments, reversals and the audit.

The ledger rules:

* every change of a balance is one immutable ``LedgerEntry`` with a unique idempotency
  key: asking for the same key again returns the first entry and writes nothing;
* an entry and its wallet move together in ONE SQL statement (``entry_write``): the
  statement locks the wallet row for its own duration, inserts the entry unless the key
  exists (or a debit is not covered), and updates the wallet only when the entry went
  in. ``gems_credit``/``gems_debit`` run it in autocommit, so no row lock is held
  across round trips; inside a caller's transaction it joins that transaction (several
  wallets: lock them first, in ``user_id`` order, with ``wallets_lock``);
* a debit larger than the balance is refused and writes nothing (and the database
  refuses a negative balance anyway);
* only members hold a wallet: staff are refused here and by a database trigger.

Lifetime earned counts credits that are earnings (every credit except a reversal) minus
reversed earnings; ranks follow it. ``rewards_audit`` recomputes both from the ledger.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.services import hash_token
from focusedroom.context import RequestContext
from focusedroom.db import fetch_prepared
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

# The one statement of a ledger write. For a debit, ``w`` locks the wallet row for the rest of this statement
# (in autocommit the statement is the whole transaction; inside a caller's transaction the lock joins it);
# after a wait, the lock returns the row's newest version, so the debit is checked against the current
# balance. A credit needs no check and takes no lock before its update: ``upd`` locks the row itself, and
# after a wait PostgreSQL re-applies the increment to the newest version. ``ins`` writes the entry unless
# its idempotency key exists (a concurrent writer of the same key is waited for) or a debit is not
# covered; ``upd`` moves the wallet only when the entry went in; ``g`` completes the open goals the new
# balance reaches (once: only rows without a date). The final SELECT returns the balance and lifetime
# before the write (from ``upd`` when it ran: ``w``'s unlocked snapshot may be older) and says whether a
# rank threshold lies between the old and the new lifetime earned.
_WRITE_SQL = """
WITH w AS (
    SELECT id, balance, lifetime_earned FROM rewards_wallet WHERE {wallet_where}{lock}
), ins AS (
    INSERT INTO rewards_ledgerentry (wallet_id, kind, amount, reason, brand_id, source, description, actor_kind,
                                     actor_id, idempotency_key, reverses_id, created_at{extra_columns})
    SELECT w.id, %(kind)s::varchar, %(amount)s::int, %(reason)s::varchar, %(brand)s::bigint, %(source)s::varchar,
           %(description)s::varchar, %(actor_kind)s::varchar, %(actor)s::bigint, %(key)s::varchar,
           %(reverses)s::bigint, %(now)s::timestamptz{extra_values}
      FROM w
     WHERE %(credit)s::boolean OR w.balance >= %(amount)s::int
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, wallet_id
), upd AS (
    UPDATE rewards_wallet AS t
       SET balance = t.balance + %(signed)s::int, lifetime_earned = t.lifetime_earned + %(delta)s::int,
           updated_at = %(now)s::timestamptz
      FROM ins
     WHERE t.id = ins.wallet_id
 RETURNING t.user_id, t.balance, t.lifetime_earned
), g AS (
    UPDATE rewards_goal AS goal SET completed_at = %(now)s::timestamptz
      FROM upd
     WHERE %(credit)s::boolean AND goal.user_id = upd.user_id AND goal.is_active AND goal.completed_at IS NULL
       AND goal.target_points <= upd.balance
 RETURNING 1
)
SELECT w.id, COALESCE(upd.balance - %(signed)s::int, w.balance),
       COALESCE(upd.lifetime_earned - %(delta)s::int, w.lifetime_earned), ins.id, upd.balance, upd.lifetime_earned,
       upd.lifetime_earned IS NOT NULL AND EXISTS (
           SELECT 1 FROM rewards_rank r
            WHERE r.is_active AND r.points_required > LEAST(upd.lifetime_earned - %(delta)s::int, upd.lifetime_earned)
              AND r.points_required <= GREATEST(upd.lifetime_earned - %(delta)s::int, upd.lifetime_earned)),
       (SELECT COUNT(*) FROM g)
  FROM w LEFT JOIN ins ON TRUE LEFT JOIN upd ON TRUE
"""

# Columns every write sets; others (nullable ones added later, e.g. an expiry) come through ``columns``.
_BASE_COLUMNS = frozenset(
    {
        "id",
        "wallet_id",
        "kind",
        "amount",
        "reason",
        "brand_id",
        "source",
        "description",
        "actor_kind",
        "actor_id",
        "idempotency_key",
        "reverses_id",
        "created_at",
    }
)


@functools.cache
def _write_sql(by_wallet: bool, credit: bool, extra: tuple[tuple[str, str], ...]) -> str:
    """The statement for a wallet given by id or by person, a credit or a debit, with optional
    ``(column, type)`` pairs."""
    quote = connection.ops.quote_name
    return _WRITE_SQL.format(
        wallet_where="id = %(wallet)s::bigint" if by_wallet else "user_id = %(user)s::bigint",
        lock="" if credit else " FOR NO KEY UPDATE",
        extra_columns="".join(f", {quote(column)}" for column, _ in extra),
        extra_values="".join(f", %(x_{column})s::{db_type}" for column, db_type in extra),
    )


@functools.cache
def _ledger_fields() -> dict[str, Any]:
    """The ledger's fields by column name (read from the model once)."""
    return {f.column: f for f in LedgerEntry._meta.concrete_fields}


def _extra_columns(columns: Mapping[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    """``{column: (python value, database value)}`` for the optional columns a caller sets."""
    if not columns:
        return {}
    extra = {}
    for name, value in sorted(columns.items()):
        field = _ledger_fields().get(name)
        if field is None or name in _BASE_COLUMNS:
            raise ValueError(f"{name!r} is not an optional column of the ledger")
        extra[name] = (value, field.get_db_prep_save(value, connection))
    return extra


def _existing_entry(*, wallet_id: int, idempotency_key: str) -> LedgerEntry | None:
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None and existing.wallet_id != wallet_id:
        raise Conflict("This idempotency key was already used for another wallet.")
    return existing


def _insufficient(*, balance: int, amount: int) -> InsufficientGems:
    return InsufficientGems(
        f"Not enough Insight Gems: this needs {amount} and the balance is {balance}.",
        fields={"amount": [f"The balance is {balance} gems; {amount} are needed."]},
        extra={"balance": balance, "needed": amount},
    )


def entry_write(
    *,
    user: User,
    kind: str,
    amount: int,
    reason: str,
    brand: Brand,
    idempotency_key: str,
    wallet: Wallet | None = None,
    source: str = "",
    description: str = "",
    actor: User | None = None,
    reverses: LedgerEntry | None = None,
    columns: Mapping[str, Any] | None = None,
    expires_at: datetime | None = None,
    lot: LedgerEntry | None = None,
    context: RequestContext | None = None,
) -> tuple[LedgerEntry, bool]:
    """Write one entry and move the wallet in one SQL statement. Returns ``(entry, created)``.

    Runs in autocommit when no transaction is open (nothing is held across round trips),
    or joins the caller's transaction. ``wallet`` (optional) names the wallet; without it
    the statement finds the person's wallet, made on first need (``member_enrol``).
    ``columns`` sets optional ledger columns by name (``{"expires_at": …}``).

    A key seen before (or being written by a concurrent transaction, which the statement
    waits for) returns the first entry and changes nothing; a key of another wallet is a
    ``Conflict``; a debit the balance does not cover is ``InsufficientGems`` and writes
    nothing. After the statement: the rank is recomputed when a threshold was crossed and
    ``gems_credited`` is sent for a credit.

    A credit is a lot: it carries ``expires_at``, by default from its brand's expiry rule at
    this instant (a reversal carries the date ``ledger_reverse`` gives it). ``lot`` is the
    credit an ``expiry`` entry expires. Nothing else about lots is written here.
    """
    now = timezone.now()
    if kind == Kind.CREDIT and reason != Reason.REVERSAL and expires_at is None:
        expires_at = lots.expires_at_for(expiry_rule(brand), at=now)
    columns = dict(columns or {})
    if expires_at is not None:
        columns["expires_at"] = expires_at
    if lot is not None:
        columns["lot_id"] = lot.pk
    extra = _extra_columns(columns)
    credit = kind == Kind.CREDIT
    actor_kind = _actor_kind(user=user, actor=actor)
    source, description = source[:100], description[:500]
    delta = _lifetime_delta(kind=kind, reason=reason, amount=amount)
    params = {
        "wallet": wallet.pk if wallet is not None else None,
        "user": user.pk,
        "kind": kind,
        "amount": amount,
        "reason": reason,
        "brand": brand.pk,
        "source": source,
        "description": description,
        "actor_kind": actor_kind,
        "actor": actor.pk if actor else None,
        "key": idempotency_key,
        "reverses": reverses.pk if reverses else None,
        "now": now,
        "credit": credit,
        "signed": amount if credit else -amount,
        "delta": delta,
        **{f"x_{column}": db_value for column, (_, db_value) in extra.items()},
    }
    sql = _write_sql(wallet is not None, credit, tuple((c, _ledger_fields()[c].db_type(connection)) for c in extra))
    for _attempt in range(3):
        row = fetch_prepared(sql, params)
        if row is None:  # no wallet yet: the person becomes a member (welcome credit once), then again
            member_enrol(user=user, context=context)
            continue
        wallet_id, balance, old_lifetime, entry_id, new_balance, new_lifetime, rank_crossed, _goals = row
        if entry_id is not None:
            break
        existing = _existing_entry(wallet_id=wallet_id, idempotency_key=idempotency_key)
        if existing is not None:  # a retry (of a debit too: it went through before)
            return existing, False
        if not credit and balance < amount:
            raise _insufficient(balance=balance, amount=amount)
        # The conflicting writer rolled back between the statement and the look-up: write again.
    else:
        raise Conflict("The ledger is busy; try again.")
    written = {
        "id": entry_id,
        "wallet_id": wallet_id,
        "kind": kind,
        "amount": amount,
        "reason": reason,
        "brand_id": brand.pk,
        "source": source,
        "description": description,
        "actor_id": actor.pk if actor else None,
        "actor_kind": actor_kind,
        "idempotency_key": idempotency_key,
        "reverses_id": reverses.pk if reverses else None,
        "created_at": now,
        **{_ledger_fields()[column].attname: value for column, (value, _) in extra.items()},
    }
    # The row as written (what a read would give, every column in order), with the objects at hand attached.
    entry = LedgerEntry.from_db("default", None, [written.get(f.attname) for f in _ledger_fields().values()])
    entry.brand = brand
    if actor is not None:
        entry.actor = actor
    if reverses is not None:
        entry.reverses = reverses
    if wallet is not None:
        wallet.balance, wallet.lifetime_earned, wallet.updated_at = new_balance, new_lifetime, now
        entry.wallet = wallet
    crossed = rank_crossed or min(old_lifetime, new_lifetime) == 0
    # A wallet kept from before its holder became staff can still be corrected; staff hold no rank.
    # After the statement: inside a caller's transaction these commit with the entry; in autocommit
    # (the statement has committed) each runs in its own transaction right after it.
    if new_lifetime != old_lifetime and crossed and not user.is_staff:
        with transaction.atomic(savepoint=False):
            rank_recompute(user=user, lifetime=new_lifetime, context=context)
    if credit:
        signals.gems_credited.send(sender=LedgerEntry, entry=entry, user=user, context=context)
    return entry, True


def _check_amount(amount: Any) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationError({"amount": ["The amount is a whole number of gems greater than 0."]})
    return amount


# Reversals go through ``ledger_reverse``, expiries through the expiry job.
_POSTABLE_REASONS = frozenset(Reason.values) - {Reason.REVERSAL, Reason.EXPIRY}


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
    columns: Mapping[str, Any] | None = None,
    context: RequestContext | None = None,
) -> tuple[LedgerEntry, bool]:
    member_require(user)
    amount = _check_amount(amount)
    if reason not in _POSTABLE_REASONS:
        raise ValidationError(
            {"reason": ["Unknown reason code (reversals go through ledger_reverse, expiries through the expiry job)."]}
        )
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValidationError({"idempotency_key": ["An idempotency key of 1 to 255 characters is required."]})
    # One statement, in autocommit (or joining the caller's transaction): no wallet lock held here.
    return entry_write(
        user=user,
        kind=kind,
        amount=amount,
        reason=reason,
        brand=brand or brand_default(),
        idempotency_key=idempotency_key,
        source=source,
        description=description,
        actor=actor,
        columns=columns,
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
    columns: Mapping[str, Any] | None = None,
    context: RequestContext | None = None,
) -> LedgerEntry:
    """Credit a member gems. The same idempotency key asked twice returns the first entry.

    One SQL statement (see ``entry_write``); ``columns`` sets optional ledger columns.
    """
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
        columns=columns,
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
    columns: Mapping[str, Any] | None = None,
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
        columns=columns,
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


AUDIT_WALLETS_PER_QUERY = 500


def lots_audit(*, max_details: int = 100) -> tuple[int, int, list[dict[str, Any]]]:
    """Replay the lots of every wallet that has any (a credit with an expiry date) and check that
    what is left of the live lots is the wallet's balance, that every debit was covered by live
    lots and that every expiry entry took exactly what was left of its lot.

    Returns ``(lots checked, wallets that disagree, details)``. Wallets without an expiring
    lot have one kind of gems only: the balance check of ``AUDIT_SQL`` covers them.
    """
    with_lots = LedgerEntry.objects.filter(expires_at__isnull=False).values("wallet_id")
    wallets = Wallet.objects.filter(pk__in=with_lots).order_by("pk").values_list("pk", "balance", "user_id")
    balances, users = {}, {}
    for pk, balance, user_id in wallets.iterator(chunk_size=5000):
        balances[pk], users[pk] = balance, user_id
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

    # Wallets a few hundred at a time, each read by its own index range: one query over "every
    # entry of a wallet with lots" ran as a cursor, whose fast-start plan probed each wallet's
    # entries for an expiring one once per entry (quadratic in a wallet's entries).
    ids = list(balances)
    for start in range(0, len(ids), AUDIT_WALLETS_PER_QUERY):
        rows = (
            LedgerEntry.objects.filter(wallet_id__in=ids[start : start + AUDIT_WALLETS_PER_QUERY])
            .order_by("wallet_id", "id")
            .values_list(
                "wallet_id", "id", "kind", "amount", "reason", "expires_at", "reverses_id", "lot_id", "created_at"
            )
        )
        for wallet_id, entries in itertools.groupby(rows.iterator(chunk_size=5000), key=operator.itemgetter(0)):
            finish(wallet_id, [row[1:] for row in entries])
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
