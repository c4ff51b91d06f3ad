"""Earning lots: when credited gems expire, and which gems a debit spends (pure functions, no database).

Every credit on the ledger is a *lot*; a credit written while its brand has an expiry rule
carries ``expires_at`` (the instant its gems stop being spendable), others never expire.
Nothing about lots is stored at write time: which gems a debit spent is worked out by
**replaying** the wallet's ledger in the order it was written (``replay``):

* a credit opens a lot (a reversal that gives back a debit opens one too, with the date
  ``ledger_reverse`` gave it);
* a debit spends the live lots that expire first (then the ones that never expire),
  oldest first among equal dates; a reversal of a credit spends that credit's lot first;
* an expiry entry (reason ``expiry``) closes the lot it names: it must take exactly what
  was left of it. A lot is live until its expiry entry is written, so the balance is
  always the sum of the live lots (the expiry job writes the entry within the hour).

The same replay answers the member's schedule ("N gems expire on <date>"), the expiry job
(what is left of each due lot) and the audit (lots and balance agree).
"""

from __future__ import annotations

import calendar
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone

CREDIT, DEBIT = "CREDIT", "DEBIT"
REVERSAL, EXPIRY = "reversal", "expiry"
_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_EARLIEST = datetime.min.replace(tzinfo=UTC)


# ------------------------------------------------------------------------ brand rule


def _add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def expires_at_for(rule: dict[str, Any], *, at: datetime) -> datetime | None:
    """When gems credited at ``at`` expire under a brand's rule, or None (they never expire).

    * ``{"rule": "rolling", "months": N}``: N months after the credit, to the minute;
    * ``{"rule": "period_end", "period": "month"|"quarter"|"year", "periods": k}``: at the end
      (23:59:59.999999, project time zone) of the k-th calendar period counting the one of
      the credit (k = 1 by default: the end of the current month, quarter or year);
    * ``{"rule": "none"}`` or anything else: never.
    """
    kind = rule.get("rule")
    if kind == "rolling":
        return _add_months(at, int(rule["months"]))
    if kind == "period_end":
        local = timezone.localtime(at)
        size = _PERIOD_MONTHS[rule["period"]]
        first_month = (local.month - 1) // size * size  # 0-based first month of the current period
        start = local.replace(month=first_month + 1, day=1)
        next_start = _add_months(start, size * int(rule.get("periods", 1)))
        end_day = next_start.date() - timedelta(days=1)
        return timezone.make_aware(datetime.combine(end_day, time.max), timezone.get_current_timezone())
    return None


# --------------------------------------------------------------------------- replay


@dataclass(frozen=True)
class Row:
    """What the replay needs of a ledger entry."""

    id: int
    kind: str
    amount: int
    reason: str
    expires_at: datetime | None = None
    reverses_id: int | None = None
    lot_id: int | None = None
    created_at: datetime | None = None


@dataclass
class Lot:
    id: int
    amount: int
    remaining: int
    expires_at: datetime | None
    created_at: datetime | None
    expired: int = 0  # gems its expiry entry took
    closed: bool = False  # its expiry entry is written

    @property
    def live(self) -> bool:
        return not self.closed and self.remaining > 0


@dataclass
class Replay:
    lots: dict[int, Lot] = field(default_factory=dict)
    spent: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # debit id -> [(lot id, gems)]
    issues: list[str] = field(default_factory=list)
    entries: int = 0

    @property
    def balance(self) -> int:
        """The sum of what is left of the live lots (the wallet's balance when the ledger is sound)."""
        return sum(lot.remaining for lot in self.lots.values() if lot.live)

    def live_lots(self) -> list[Lot]:
        """Live lots in the order debits spend them."""
        return sorted((lot for lot in self.lots.values() if lot.live), key=_order)

    def schedule(self) -> list[dict[str, Any]]:
        """``[{"expires_at", "amount", "lots"}]``: the gems left per expiry instant, soonest first."""
        by_instant: dict[datetime, dict[str, Any]] = {}
        for lot in self.live_lots():
            if lot.expires_at is None:
                continue
            slot = by_instant.setdefault(lot.expires_at, {"expires_at": lot.expires_at, "amount": 0, "lots": []})
            slot["amount"] += lot.remaining
            slot["lots"].append(lot.id)
        return list(by_instant.values())

    @property
    def never_expire(self) -> int:
        return sum(lot.remaining for lot in self.lots.values() if lot.live and lot.expires_at is None)


def _order(lot: Lot) -> tuple:
    """Spending order: the soonest expiry first, lots that never expire last, then the oldest."""
    return (lot.expires_at is None, lot.expires_at or _EARLIEST, lot.id)


def replay(rows: Iterable[Row | tuple]) -> Replay:
    """Replay one wallet's entries, given in the order they were written (ascending id)."""
    result = Replay()
    heap: list[tuple] = []
    for raw in rows:
        row = raw if isinstance(raw, Row) else Row(*raw)
        result.entries += 1
        if row.kind == CREDIT:
            lot = Lot(row.id, row.amount, row.amount, row.expires_at, row.created_at)
            result.lots[row.id] = lot
            heapq.heappush(heap, _order(lot))
            continue
        if row.reason == EXPIRY:
            lot = result.lots.get(row.lot_id)
            if lot is None or lot.closed:
                result.issues.append(f"expiry entry {row.id} names lot {row.lot_id}, which is not an open lot")
                continue
            if row.amount != lot.remaining:
                result.issues.append(
                    f"expiry entry {row.id} took {row.amount} gems of lot {lot.id}, which had {lot.remaining} left"
                )
            lot.expired, lot.remaining, lot.closed = row.amount, max(0, lot.remaining - row.amount), True
            result.spent[row.id] = [(lot.id, row.amount)]
            continue
        need, taken = row.amount, []
        if row.reason == REVERSAL and row.reverses_id in result.lots:  # a credit taken back: its own lot first
            lot = result.lots[row.reverses_id]
            if lot.live:
                take = min(lot.remaining, need)
                lot.remaining -= take
                need -= take
                taken.append((lot.id, take))
        while need > 0 and heap:
            key = heap[0]
            lot = result.lots[key[2]]
            if not lot.live:
                heapq.heappop(heap)
                continue
            take = min(lot.remaining, need)
            lot.remaining -= take
            need -= take
            taken.append((lot.id, take))
        if need > 0:
            result.issues.append(f"debit {row.id} spent {need} gems more than the live lots held")
        result.spent[row.id] = taken
    return result


def given_back_expiry(replayed: Replay, *, debit_id: int, now: datetime) -> datetime | None:
    """When gems given back by reversing a debit expire: the latest date of the lots it spent
    (never, when it spent gems that never expire), and not before ``now`` (the next expiry run
    takes gems whose date has passed)."""
    dates = [replayed.lots[lot_id].expires_at for lot_id, _ in replayed.spent.get(debit_id, [])]
    if not dates or any(d is None for d in dates):
        return None
    return max(max(dates), now)
