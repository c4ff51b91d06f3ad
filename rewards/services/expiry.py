"""Expiring gems: the expiry job and its 14-day warning.

A lot is a credit with ``expires_at`` (``rewards.lots``). The job, run periodically
(``manage.py expire_gems``), looks at lots whose date falls within the warning window and
that it has not closed yet, and, wallet by wallet under the wallet's lock (the lock every
debit takes, so a concurrent redemption waits or is waited for):

* replays the wallet's ledger to learn what is left of each lot;
* a lot with nothing left is closed (nothing to expire, nothing to warn about, ever);
* a due lot (``expires_at`` passed) gets an ``expiry`` entry — a debit of what is left,
  naming the lot, idempotency key ``expiry:<lot id>`` — and is closed;
* a lot due within ``WARN_DAYS`` days is marked warned, and the member is told once
  (``signals.gems_expiring``, one announcement per member and run listing the lots;
  ``integrations`` queues the email through the outbox).

Running it twice writes nothing new: closed lots are skipped, the expiry key and the
database's one-expiry-per-lot rule say so too, and ``LotState.warned_at`` is set once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from focusedroom.context import RequestContext
from rewards import signals
from rewards.models import LedgerEntry, LotState, Wallet
from rewards.services.common import Kind, Reason
from rewards.services.ledger import entry_write, wallet_replay

WARN_DAYS = 14
LOOKBACK_DAYS = 35  # lots due longer ago than this are not looked for again (see ``lots_expire``)

_CANDIDATES_SQL = """
SELECT DISTINCT l.wallet_id
  FROM rewards_ledgerentry l
  LEFT JOIN rewards_lotstate s ON s.lot_id = l.id
 WHERE l.expires_at IS NOT NULL AND l.expires_at > %(since)s AND l.expires_at <= %(horizon)s
   AND (s.lot_id IS NULL OR (s.closed_at IS NULL AND (s.warned_at IS NULL OR l.expires_at <= %(now)s)))
 ORDER BY l.wallet_id
"""


def lots_expire(
    *,
    now: datetime | None = None,
    warn_days: int = WARN_DAYS,
    lookback_days: int = LOOKBACK_DAYS,
    context: RequestContext | None = None,
) -> dict[str, int]:
    """Expire due lots and warn about lots due within ``warn_days``; returns what it did.

    Looks at lots due after ``now - lookback_days`` (the job runs every hour; a longer
    outage is caught up with ``--lookback-days``). Each wallet is worked in its own
    transaction, so a long run holds no lock for long and a failure loses nothing done.
    """
    now = now or timezone.now()
    context = context or RequestContext.system(source="task")
    params = {"since": now - timedelta(days=lookback_days), "horizon": now + timedelta(days=warn_days), "now": now}
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, params)
        wallet_ids = [row[0] for row in cursor.fetchall()]
    totals = {"wallets": 0, "expired_lots": 0, "expired_gems": 0, "warned_lots": 0, "closed_spent": 0}
    for wallet_id in wallet_ids:
        done = wallet_lots_process(
            wallet_id=wallet_id, now=now, warn_days=warn_days, since=params["since"], context=context
        )
        totals["wallets"] += 1
        for key, value in done.items():
            totals[key] += value
    return totals


@transaction.atomic
def wallet_lots_process(
    *,
    wallet_id: int,
    now: datetime,
    warn_days: int = WARN_DAYS,
    since: datetime | None = None,
    context: RequestContext | None = None,
) -> dict[str, int]:
    """One wallet: expire its due lots, close spent ones, warn about the ones due soon (once)."""
    wallet = Wallet.objects.select_for_update().select_related("user").get(pk=wallet_id)
    user = wallet.user
    horizon = now + timedelta(days=warn_days)
    lots_due = LedgerEntry.objects.filter(wallet=wallet, expires_at__isnull=False, expires_at__lte=horizon)
    if since is not None:
        lots_due = lots_due.filter(expires_at__gt=since)
    lots_due = list(lots_due.select_related("brand").order_by("expires_at", "id"))
    states = {s.lot_id: s for s in LotState.objects.filter(lot__in=lots_due)}
    replayed = wallet_replay(wallet=wallet)
    done = {"expired_lots": 0, "expired_gems": 0, "warned_lots": 0, "closed_spent": 0}
    warned: list[dict[str, Any]] = []
    for lot in lots_due:
        state = states.get(lot.pk) or LotState(lot=lot, wallet=wallet, expires_at=lot.expires_at)
        if state.closed_at is not None:
            continue
        replayed_lot = replayed.lots[lot.pk]
        remaining = replayed_lot.remaining if not replayed_lot.closed else 0
        if remaining == 0:
            state.closed_at = now
            done["closed_spent"] += 1
        elif lot.expires_at <= now:
            entry_write(
                wallet=wallet,
                user=user,
                kind=Kind.DEBIT,
                amount=remaining,
                reason=Reason.EXPIRY,
                brand=lot.brand,
                idempotency_key=f"expiry:{lot.pk}",
                source=f"lot:{lot.pk}",
                description=f"{remaining} of the gems earned on {timezone.localdate(lot.created_at):%d %b %Y} expired",
                lot=lot,
                context=context,
            )
            replayed_lot.remaining, replayed_lot.closed = 0, True
            state.closed_at, state.expired_amount = now, remaining
            done["expired_lots"] += 1
            done["expired_gems"] += remaining
        elif state.warned_at is None:
            state.warned_at = now
            warned.append({"lot_id": lot.pk, "amount": remaining, "expires_at": lot.expires_at, "brand": lot.brand})
            done["warned_lots"] += 1
        else:
            continue
        state.save()
    if warned:
        signals.gems_expiring.send(
            sender=LotState,
            user=user,
            lots=warned,
            amount=sum(item["amount"] for item in warned),
            expires_at=min(item["expires_at"] for item in warned),
            context=context,
        )
    return done
