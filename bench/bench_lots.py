"""Lots: what replaying ledgers costs, against baselines measured in the same run.

300 fresh wallets, each with the welcome credit, 40 credits of 10 gems with an expiry date
(10 of them past due) and 10 debits of 5 gems (written straight into the ledger, then the
wallets set to match), so each wallet has 5 due lots with gems left and 5 spent ones.

* the lot audit (``services.lots_audit``: every wallet's ledger replayed in Python) against the
  balance audit (``AUDIT_SQL``, one SQL statement) over the same database;
* the member's expiry schedule (``selectors.expiry_schedule``: read + replay) against reading the
  same rows alone;
* the expiry job (``services.lots_expire``: lock, replay, an expiry entry per due lot with gems
  left, a closed mark per spent one) in lots per second, against ``gems_credit`` writes per second
  (one wallet at a time, one thread).
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from common import Result

WALLETS = 300
CREDITS, DUE, DEBITS = 40, 10, 10


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run() -> list[Result]:
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from rewards import selectors, services
    from rewards.models import LedgerEntry, Wallet

    run_id = uuid.uuid4().hex[:8]
    brand = services.brand_default()
    people = [User.objects.create(email=f"bench.lots.{run_id}.{i}@example.com", name="Bench") for i in range(WALLETS)]
    wallets = [services.member_enrol(user=p) for p in people]
    now = timezone.now()
    rows = []
    for w in wallets:
        for k in range(CREDITS):
            created = now - timedelta(days=60) + timedelta(minutes=k)
            expires = now - timedelta(days=1) if k < DUE else now + timedelta(days=60 + k)
            rows.append((w.pk, "CREDIT", 10, "adjustment", brand.pk, f"bench:{run_id}:{w.pk}:c{k}", created, expires))
        for k in range(DEBITS):
            created = now - timedelta(days=30) + timedelta(minutes=k)
            rows.append((w.pk, "DEBIT", 5, "redemption", brand.pk, f"bench:{run_id}:{w.pk}:d{k}", created, None))
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO rewards_ledgerentry (wallet_id, kind, amount, reason, brand_id, source, description, "
            "actor_kind, idempotency_key, created_at, expires_at) "
            "VALUES (%s, %s, %s, %s, %s, '', 'benchmark', 'system', %s, %s, %s)",
            rows,
        )
        gained = CREDITS * 10 - DEBITS * 5
        cursor.execute(
            "UPDATE rewards_wallet SET balance = balance + %s, lifetime_earned = lifetime_earned + %s "
            "WHERE id = ANY(%s)",
            [gained, CREDITS * 10, [w.pk for w in wallets]],
        )

    def balance_audit():
        with connection.cursor() as cursor:
            cursor.execute(services.AUDIT_SQL, [100])
            cursor.fetchone()

    sql_audit = _timed(balance_audit)
    lot_audit_result = {}
    lot_audit = _timed(
        lambda: lot_audit_result.update(zip(("lots", "differ", "details"), services.lots_audit(), strict=True))
    )
    if lot_audit_result["differ"]:
        raise RuntimeError(f"lot audit found differences before the job: {lot_audit_result['details'][:3]}")

    def read_rows():
        for p in people:
            list(
                LedgerEntry.objects.filter(wallet__user=p)
                .order_by("id")
                .values_list("id", "kind", "amount", "reason", "expires_at", "reverses_id", "lot_id", "created_at")
            )

    def schedules():
        for p in people:
            selectors.expiry_schedule(user=p)

    read_time = _timed(read_rows)
    schedule_time = _timed(schedules)

    job = {}
    job_time = _timed(lambda: job.update(services.lots_expire()))
    lots_done = job["expired_lots"] + job["closed_spent"]
    if job["expired_lots"] < WALLETS * 5:
        raise RuntimeError(f"the expiry job expired {job['expired_lots']} lots, expected {WALLETS * 5}")
    credit_keys = [f"bench:{run_id}:credit:{i}" for i in range(WALLETS)]
    credit_time = _timed(
        lambda: [
            services.gems_credit(user=p, amount=1, reason="adjustment", idempotency_key=k)
            for p, k in zip(people, credit_keys, strict=True)
        ]
    )
    audit = services.rewards_audit(store=False)
    if not audit.is_clean:
        raise RuntimeError(f"audit after the expiry job: {audit.details[:3]}")
    assert Wallet.objects.filter(pk__in=[w.pk for w in wallets], balance=100 + gained - 50 + 1).count() == WALLETS
    return [
        Result(
            f"lot audit (replay, {lot_audit_result['lots']} lots)",
            lot_audit,
            "s",
            "balance audit, one SQL statement (same database)",
            sql_audit,
            "every wallet with an expiring lot replayed in Python",
            higher_is_better=False,
        ),
        Result(
            f"expiry schedule, {WALLETS} members × {CREDITS + DEBITS + 1} entries",
            schedule_time / WALLETS * 1000,
            "ms/member",
            "reading the same rows",
            read_time / WALLETS * 1000,
            "what the account page and GET me/wallet/ add",
            higher_is_better=False,
        ),
        Result(
            "expiry job",
            lots_done / job_time,
            "lots/s",
            "gems_credit, one wallet at a time",
            WALLETS / credit_time,
            f"{job['expired_lots']} lots expired, {job['closed_spent']} spent ones closed, wallet by wallet",
        ),
    ]
