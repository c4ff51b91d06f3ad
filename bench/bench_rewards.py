"""Ledger write throughput: 8 concurrent workers (threads, each with its own database
connection) crediting gems through ``rewards.services.gems_credit`` — on one wallet (every
write waits for the same row lock) and on one wallet per worker — against plain single-row
INSERTs into a table of the same shape (no trigger, no foreign keys, no wallet update),
measured in the same run.

Also reported: the statements one credit sends (Django's query log; an atomic block in
which nothing ran is not a statement) and the share of wallet updates PostgreSQL made HOT
during the run (``pg_stat_user_tables``).
"""

from __future__ import annotations

import threading
import time
import uuid

from common import Result, captured_statements

WORKERS = 8
DURATION = 5.0


def _run(workers: int, work) -> float:
    from django.db import connection

    counts = [0] * workers
    errors: list[BaseException] = []
    barrier = threading.Barrier(workers)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            stop = time.monotonic() + DURATION
            n = 0
            while time.monotonic() < stop:
                work(i, n)
                n += 1
            counts[i] = n
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"benchmark worker failed: {errors[0]!r}")
    return sum(counts) / (time.monotonic() - started)


def run() -> list[Result]:
    from django.db import connection

    from accounts.models import User
    from rewards import services
    from rewards.models import LedgerEntry

    people = [
        User.objects.get_or_create(email=f"bench.wallet{i}@example.com", defaults={"name": f"Bench {i}"})[0]
        for i in range(WORKERS)
    ]
    brand = services.brand_default()
    for person in people:
        services.member_enrol(user=person)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_ledger_plain")
        cursor.execute("CREATE TABLE bench_ledger_plain (LIKE rewards_ledgerentry INCLUDING ALL)")
    wallet_ids = {p.pk: p.wallet.pk for p in people}
    run_id = uuid.uuid4().hex[:8]

    def credit(user):
        def work(i: int, n: int) -> None:
            services.gems_credit(
                user=user(i),
                amount=1,
                reason=LedgerEntry.Reason.ADJUSTMENT,
                idempotency_key=f"bench:{run_id}:{user(i).pk}:{i}:{n}:{uuid.uuid4().hex[:6]}",
                brand=brand,
                description="benchmark",
            )

        return work

    def plain_insert(i: int, n: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_ledger_plain (wallet_id, kind, amount, reason, brand_id, source, description, "
                "actor_kind, idempotency_key, created_at) VALUES (%s, 'CREDIT', 1, 'adjustment', %s, '', "
                "'benchmark', 'system', %s, now())",
                [wallet_ids[people[i].pk], brand.pk, f"plain:{run_id}:{i}:{n}:{uuid.uuid4().hex[:6]}"],
            )

    statements = _statements_per_credit(people[0], brand)
    # The baseline brackets the measured runs (before and after, averaged): on a shared machine the
    # load drifts during a run, and a baseline taken only first would carry all of that drift.
    baseline_before = _run(WORKERS, plain_insert)
    before = _wallet_updates()
    one_wallet = _run(WORKERS, credit(lambda i: people[0]))
    many_wallets = _run(WORKERS, credit(lambda i: people[i]))
    after = _wallet_updates()
    baseline = (baseline_before + _run(WORKERS, plain_insert)) / 2
    updates, hot = after[0] - before[0], after[1] - before[1]
    audit = services.rewards_audit(store=False)
    if audit.differences:
        raise RuntimeError(f"ledger audit found {audit.differences} differences after the benchmark")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_ledger_plain")
    plain = "plain single-row INSERT, 8 workers (before and after)"
    return [
        Result(
            "ledger credit, 8 workers, one wallet",
            one_wallet,
            "writes/s",
            plain,
            baseline,
            f"one statement per write ({statements}), in autocommit: the row lock lasts one statement",
        ),
        Result(
            "ledger credit, 8 workers, 8 wallets",
            many_wallets,
            "writes/s",
            plain,
            baseline,
            f"one wallet per worker: {statements} statement per write (entry, wallet, goals, rank check)",
        ),
        Result(
            "HOT wallet updates during the ledger runs",
            100.0 * hot / updates if updates else float("nan"),
            "%",
            "every wallet update",
            100.0,
            f"{hot:,} of {updates:,} wallet updates changed no index (no index on the columns a write sets)",
        ),
    ]


def _statements_per_credit(person, brand) -> int:
    """Statements of one credit on an existing wallet, in autocommit, from Django's query log."""

    from rewards import services
    from rewards.models import LedgerEntry

    with captured_statements() as queries:
        services.gems_credit(
            user=person,
            amount=1,
            reason=LedgerEntry.Reason.ADJUSTMENT,
            idempotency_key=f"bench:count:{uuid.uuid4().hex}",
            brand=brand,
        )
    return queries.sent


def _wallet_updates() -> tuple[int, int]:
    """(updates, HOT updates) of the wallet table so far (statistics flushed first)."""
    import time as _time

    from django.db import connection

    _time.sleep(1.1)  # other backends flush their statistics at most once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush(), pg_stat_clear_snapshot()")
        cursor.execute("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'rewards_wallet'")
        return cursor.fetchone()
