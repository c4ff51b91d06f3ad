"""Ledger writes as one SQL statement: what the statement does, what it leaves alone, and
parallel writers on real connections ending with a clean audit."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from focusedroom.errors import Conflict
from focusedroom.testing import run_in_parallel
from rewards import services, signals
from rewards.models import Goal, LedgerEntry, MemberRank, Wallet
from rewards.services.ledger import entry_write

Reason = LedgerEntry.Reason


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]


@pytest.mark.django_db(transaction=True)
def test_a_credit_on_an_existing_wallet_is_one_statement(make_member, default_brand):
    """In autocommit: the statement and nothing else (no BEGIN, no lock, no savepoint)."""
    member = make_member()
    services.member_enrol(user=member)
    with CaptureQueriesContext(connection) as queries:
        entry = services.gems_credit(
            user=member, amount=5, reason=Reason.ADJUSTMENT, idempotency_key="one", brand=default_brand
        )
    sqls = [q["sql"] for q in queries.captured_queries]
    # The outbox receiver opens no transaction for a person without marketing consent.
    assert len(sqls) == 1, sqls
    sql = sqls[0]
    assert "INSERT INTO rewards_ledgerentry" in sql and "UPDATE rewards_wallet" in sql
    wallet = Wallet.objects.get(user=member)
    assert (wallet.balance, wallet.lifetime_earned) == (105, 105)
    assert entry.pk == LedgerEntry.objects.get(idempotency_key="one").pk and entry.wallet_id == wallet.pk


@pytest.mark.django_db(transaction=True)
def test_the_write_is_planned_once_per_connection_and_orm_statements_never(make_member, default_brand):
    """The ledger write is a prepared statement: parsed and planned on a connection's first write,
    executed by name afterwards. The ORM's statements (values in the text) are never prepared."""
    member = make_member()
    services.member_enrol(user=member)

    def prepared() -> list[tuple[str, int]]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
            return cursor.fetchall()

    for n in range(3):
        services.gems_credit(user=member, amount=1, reason=Reason.ADJUSTMENT, idempotency_key=f"p{n}")
        Wallet.objects.filter(user=member).first()  # the same ORM statement each time
    statements = prepared()
    # The welcome credit (a wallet named by id) and the three credits (a wallet found by its person).
    assert all("INSERT INTO rewards_ledgerentry" in text and "UPDATE rewards_wallet" in text for text, _ in statements)
    assert sorted(plans for _, plans in statements) == [1, 3], statements
    assert Wallet.objects.get(user=member).balance == 103


@pytest.mark.django_db
def test_a_short_debit_and_a_repeated_key_write_nothing_and_say_why(make_member, default_brand):
    member = make_member()
    services.member_enrol(user=member)
    with pytest.raises(services.InsufficientGems) as refused:
        services.gems_debit(user=member, amount=101, reason=Reason.REDEMPTION, idempotency_key="big")
    assert refused.value.fields == {"amount": ["The balance is 100 gems; 101 are needed."]}
    assert refused.value.extra == {"balance": 100, "needed": 101}
    spent = services.gems_debit(user=member, amount=60, reason=Reason.REDEMPTION, idempotency_key="spend")
    # A retry of a debit that went through returns it, even though the balance no longer covers it.
    assert services.gems_debit(user=member, amount=60, reason=Reason.REDEMPTION, idempotency_key="spend").pk == spent.pk
    wallet = Wallet.objects.get(user=member)
    assert wallet.balance == 40 and wallet.entries.count() == 2
    other = make_member()
    with pytest.raises(Conflict):
        services.gems_credit(user=other, amount=1, reason=Reason.ADJUSTMENT, idempotency_key="spend")
    assert services.rewards_audit(store=False).differences == 0


@pytest.mark.django_db
def test_the_first_write_of_a_new_member_makes_the_wallet_with_the_welcome_credit_once(make_member):
    member = make_member()
    services.gems_credit(user=member, amount=7, reason=Reason.ADJUSTMENT, idempotency_key="first")
    wallet = Wallet.objects.get(user=member)
    assert wallet.balance == 107
    assert sorted(wallet.entries.values_list("reason", flat=True)) == ["adjustment", "welcome"]


@pytest.mark.django_db
def test_rank_changes_goals_and_credits_are_announced_after_the_statement(make_member, ranks):
    member = make_member()
    services.member_enrol(user=member)
    goal = Goal.objects.create(user=member, goal_name="Lamp", target_points=300)
    heard: list[str] = []

    def on_rank(sender, *, new_rank, **kwargs):
        heard.append(f"rank:{new_rank.key}")

    def on_credit(sender, *, entry, **kwargs):
        heard.append(f"credit:{entry.amount}")

    signals.rank_changed.connect(on_rank)
    signals.gems_credited.connect(on_credit)
    try:
        services.gems_credit(user=member, amount=450, reason=Reason.ADJUSTMENT, idempotency_key="climb")
        services.gems_credit(user=member, amount=450, reason=Reason.ADJUSTMENT, idempotency_key="climb")  # retry
    finally:
        signals.rank_changed.disconnect(on_rank)
        signals.gems_credited.disconnect(on_credit)
    assert heard == ["rank:silver", "credit:450"]
    assert MemberRank.objects.get(user=member).rank.key == "silver"
    goal.refresh_from_db()
    assert goal.completed_at is not None


@pytest.mark.django_db
def test_a_callers_wallet_follows_the_row_and_columns_every_write_sets_are_not_optional(make_member, default_brand):
    member = make_member()
    wallet = services.member_enrol(user=member)
    entry, created = entry_write(
        wallet=wallet,
        user=member,
        kind="CREDIT",
        amount=3,
        reason=Reason.ADJUSTMENT,
        brand=default_brand,
        idempotency_key="with-wallet",
    )
    assert created and entry.wallet is wallet and (wallet.balance, wallet.lifetime_earned) == (103, 103)
    with pytest.raises(ValueError, match="not an optional column"):
        entry_write(
            user=member,
            kind="CREDIT",
            amount=3,
            reason=Reason.ADJUSTMENT,
            brand=default_brand,
            idempotency_key="bad-columns",
            columns={"amount": 5},
        )
    with pytest.raises(ValueError, match="not an optional column"):
        entry_write(
            user=member,
            kind="CREDIT",
            amount=3,
            reason=Reason.ADJUSTMENT,
            brand=default_brand,
            idempotency_key="bad-columns",
            columns={"no_such_column": 1},
        )
    assert not LedgerEntry.objects.filter(idempotency_key="bad-columns").exists()


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_write_joins_it(make_member):
    member = make_member()
    services.member_enrol(user=member)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.gems_credit(user=member, amount=9, reason=Reason.ADJUSTMENT, idempotency_key="rolled-back")
        raise RuntimeError
    assert not LedgerEntry.objects.filter(idempotency_key="rolled-back").exists()
    assert Wallet.objects.get(user=member).balance == 100


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_no_wallet_lock_outlives_the_statement(make_member):
    member = make_member()
    services.member_enrol(user=member)
    services.gems_credit(user=member, amount=1, reason=Reason.ADJUSTMENT, idempotency_key="quick")
    assert connection.in_atomic_block is False
    locked: list[int] = []

    def other_connection() -> None:
        try:
            with connections["default"].cursor() as cursor:  # a new connection in this thread
                cursor.execute("BEGIN")
                cursor.execute("SELECT balance FROM rewards_wallet WHERE user_id = %s FOR UPDATE NOWAIT", [member.pk])
                locked.append(cursor.fetchone()[0])
                cursor.execute("ROLLBACK")
        finally:
            connections["default"].close()

    thread = threading.Thread(target=other_connection)
    thread.start()
    thread.join()
    assert locked == [101]


@pytest.mark.django_db
def test_no_wallet_index_holds_a_column_a_write_changes():
    """The wallet update of a write stays a HOT update: no index on balance, lifetime_earned, updated_at."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'rewards_wallet'")
        definitions = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'rewards_wallet'")
        options = cursor.fetchone()[0]
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'rewards_ledgerentry'")
        ledger = [row[0] for row in cursor.fetchall()]
    assert definitions and not [d for d in definitions if any(c in d for c in ("balance", "lifetime", "updated_at"))]
    assert "fillfactor=90" in options
    # No duplicate ledger indexes: one index on the key, none on wallet_id alone.
    assert len([d for d in ledger if "(idempotency_key" in d]) == 1
    assert not [d for d in ledger if d.endswith("(wallet_id)")]


@pytest.mark.django_db(transaction=True)
def test_parallel_one_statement_writes_leave_a_clean_audit(make_member):
    """Eight threads, each on its own connection, write on four wallets: many keys, the same
    keys repeated from several threads, and debits racing to spend more than the balances hold."""
    members = [make_member() for _ in range(4)]
    for member in members:
        services.member_enrol(user=member)
    shared_keys = [f"shared-{k}" for k in range(20)]

    def work(i: int) -> dict[str, int]:
        rng = random.Random(i)
        done = {"credits": 0, "debits": 0, "refused": 0}
        for n in range(40):
            member = members[rng.randrange(len(members))]
            roll = rng.random()
            try:
                if roll < 0.35:
                    services.gems_credit(
                        user=member, amount=rng.randint(1, 30), reason=Reason.ADJUSTMENT, idempotency_key=f"c-{i}-{n}"
                    )
                    done["credits"] += 1
                elif roll < 0.55:
                    key = rng.choice(shared_keys)  # the same key from many threads: one entry, one wallet
                    owner = members[shared_keys.index(key) % len(members)]
                    services.gems_credit(user=owner, amount=11, reason=Reason.ADJUSTMENT, idempotency_key=key)
                else:
                    services.gems_debit(
                        user=member, amount=rng.randint(5, 60), reason=Reason.REDEMPTION, idempotency_key=f"d-{i}-{n}"
                    )
                    done["debits"] += 1
            except services.InsufficientGems:
                done["refused"] += 1
        return done

    results, errors = run_in_parallel(8, work)
    assert errors == []
    assert sum(r["refused"] for r in results) > 0  # the debits did race past the balances
    for key in shared_keys:
        assert LedgerEntry.objects.filter(idempotency_key=key).count() <= 1
    audit = services.rewards_audit(store=False)
    assert audit.differences == 0, audit.details
    assert audit.wallets_checked == 4
    assert not Wallet.objects.filter(balance__lt=0).exists()
    expected = {w.pk: w.balance for w in Wallet.objects.all()}
    for wallet_id, balance in expected.items():
        signed = sum(e.signed_amount for e in LedgerEntry.objects.filter(wallet_id=wallet_id))
        assert balance == signed
    assert LedgerEntry.objects.filter(reason=Reason.REDEMPTION).count() == sum(r["debits"] for r in results)
