"""The ledger: idempotent entries, locked wallets, immutability, reversals, the audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from rewards import services
from rewards.models import AuditRun, LedgerEntry, Wallet

Reason = LedgerEntry.Reason


@pytest.mark.django_db
def test_a_new_wallet_starts_with_one_welcome_credit_of_100(make_member):
    member = make_member()
    wallet = services.member_enrol(user=member)
    services.member_enrol(user=member)
    wallet.refresh_from_db()
    assert (wallet.balance, wallet.lifetime_earned) == (100, 100)
    entries = list(LedgerEntry.objects.filter(wallet=wallet))
    assert [(e.kind, e.amount, e.reason, e.idempotency_key) for e in entries] == [
        ("CREDIT", 100, "welcome", f"welcome:{member.pk}")
    ]
    assert entries[0].actor_kind == "system" and entries[0].brand.slug == "focusedroom"


@pytest.mark.django_db
def test_sign_up_creates_the_wallet_with_the_welcome_credit(client):
    response = client.post("/accounts/signup/", {"email": "new.member@example.com", "password": "s3cure-pass-42"})
    assert response.status_code == 200  # "check your inbox", whatever the address: no log-in yet
    wallet = Wallet.objects.get(user__email="new.member@example.com")
    assert wallet.entries.filter(reason=Reason.WELCOME).count() == 1
    assert wallet.balance == 100


@pytest.mark.django_db
def test_same_idempotency_key_returns_the_first_entry_and_writes_nothing(make_member):
    member = make_member()
    first = services.gems_credit(user=member, amount=30, reason=Reason.ADJUSTMENT, idempotency_key="k-1")
    again = services.gems_credit(user=member, amount=999, reason=Reason.ADJUSTMENT, idempotency_key="k-1")
    assert again.pk == first.pk and again.amount == 30
    assert Wallet.objects.get(user=member).balance == 130
    assert LedgerEntry.objects.filter(idempotency_key="k-1").count() == 1


@pytest.mark.django_db
def test_a_key_used_on_another_wallet_is_refused(make_member):
    from focusedroom.errors import Conflict

    a, b = make_member(), make_member()
    services.gems_credit(user=a, amount=5, reason=Reason.ADJUSTMENT, idempotency_key="shared")
    with pytest.raises(Conflict):
        services.gems_credit(user=b, amount=5, reason=Reason.ADJUSTMENT, idempotency_key="shared")


@pytest.mark.django_db
def test_debit_larger_than_balance_is_refused_and_writes_nothing(make_member):
    member = make_member()
    services.member_enrol(user=member)
    before = LedgerEntry.objects.count()
    with pytest.raises(services.InsufficientGems) as info:
        services.gems_debit(user=member, amount=101, reason=Reason.REDEMPTION, idempotency_key="too-much")
    assert "balance is 100" in info.value.message
    assert LedgerEntry.objects.count() == before
    assert Wallet.objects.get(user=member).balance == 100


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -5, 1.5, "10", True, None])
def test_amount_must_be_a_positive_whole_number(make_member, amount):
    with pytest.raises(ValidationError) as info:
        services.gems_credit(user=make_member(), amount=amount, reason=Reason.ADJUSTMENT, idempotency_key="x")
    assert "amount" in info.value.message_dict


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance(make_member):
    wallet = services.member_enrol(user=make_member())
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=-1)


@pytest.mark.django_db
def test_the_database_refuses_a_duplicate_idempotency_key_and_a_zero_amount(make_member):
    wallet = services.member_enrol(user=make_member())
    entry = wallet.entries.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            wallet=wallet,
            kind="CREDIT",
            amount=1,
            reason="adjustment",
            brand=entry.brand,
            idempotency_key=entry.idempotency_key,
        )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO rewards_ledgerentry (wallet_id, kind, amount, reason, brand_id, source, description, "
            "actor_kind, idempotency_key, created_at) VALUES (%s, 'CREDIT', 0, 'adjustment', %s, '', '', 'system', "
            "'zero', now())",
            [wallet.pk, entry.brand_id],
        )


@pytest.mark.django_db
def test_ledger_entries_cannot_be_updated_or_deleted_in_the_model_or_the_database(make_member):
    wallet = services.member_enrol(user=make_member())
    entry = wallet.entries.get()
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(Exception, match="immutable|Cannot"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(Exception, match="immutable|Cannot"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM rewards_ledgerentry WHERE id = %s", [entry.pk])
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 100


@pytest.mark.django_db
def test_reversal_is_a_new_opposite_entry_referencing_the_first_and_happens_once(make_member, staff_with_perms):
    member = make_member()
    staff = staff_with_perms("rewards.reverse_ledgerentry")
    credit = services.gems_credit(user=member, amount=40, reason=Reason.ADJUSTMENT, idempotency_key="bonus")
    reversal, created = services.ledger_reverse(entry=credit, actor=staff, reason="Given by mistake")
    assert created and reversal.kind == "DEBIT" and reversal.amount == 40 and reversal.reverses_id == credit.pk
    assert reversal.actor_kind == "staff" and reversal.description == "Given by mistake"
    again, created = services.ledger_reverse(entry=credit, actor=staff, reason="Twice")
    assert not created and again.pk == reversal.pk
    wallet = Wallet.objects.get(user=member)
    assert (wallet.balance, wallet.lifetime_earned) == (100, 100)
    with pytest.raises(ValidationError):
        services.ledger_reverse(entry=reversal, actor=staff, reason="Reverse the reversal")
    with pytest.raises(ValidationError):
        services.ledger_reverse(entry=credit, actor=staff, reason="  ")
    # The database says so too: one reversal per entry.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            wallet=wallet,
            kind="DEBIT",
            amount=40,
            reason="reversal",
            brand=credit.brand,
            idempotency_key="dup",
            reverses=credit,
        )


@pytest.mark.django_db
def test_reversing_a_credit_already_spent_is_refused(make_member):
    member = make_member()
    credit = services.gems_credit(user=member, amount=50, reason=Reason.ADJUSTMENT, idempotency_key="c")
    services.gems_debit(user=member, amount=120, reason=Reason.REDEMPTION, idempotency_key="d")
    with pytest.raises(services.InsufficientGems):
        services.ledger_reverse(entry=credit, actor=None, reason="Chargeback")


@pytest.mark.django_db
def test_staff_adjustment_needs_the_permission_and_writes_an_entry(make_member, staff_with_perms):
    from focusedroom.errors import PermissionDenied

    member = make_member()
    wallet = services.member_enrol(user=member)
    with pytest.raises(PermissionDenied):
        services.wallet_adjust(wallet=wallet, amount=10, reason="x", actor=staff_with_perms(), idempotency_key="a")
    staff = staff_with_perms("rewards.adjust_wallet")
    entry = services.wallet_adjust(wallet=wallet, amount=-30, reason="Duplicate gift", actor=staff, idempotency_key="a")
    again = services.wallet_adjust(wallet=wallet, amount=-30, reason="Duplicate gift", actor=staff, idempotency_key="a")
    assert entry.pk == again.pk and entry.kind == "DEBIT" and entry.reason == "adjustment" and entry.actor == staff
    assert Wallet.objects.get(pk=wallet.pk).balance == 70
    with pytest.raises(ValidationError):
        services.wallet_adjust(wallet=wallet, amount=0, reason="x", actor=staff, idempotency_key="b")


@pytest.mark.django_db
def test_audit_is_clean_then_reports_a_tampered_wallet_and_exits_non_zero(make_member, capsys):
    member = make_member()
    services.gems_credit(user=member, amount=25, reason=Reason.ADJUSTMENT, idempotency_key="a")
    call_command("rewards_audit")
    assert AuditRun.objects.latest("started_at").is_clean
    Wallet.objects.filter(user=member).update(balance=5)  # tampering outside the ledger
    with pytest.raises(CommandError, match="1 wallet"):
        call_command("rewards_audit")
    run = AuditRun.objects.latest("started_at")
    assert run.differences == 1 and run.details[0]["ledger_balance"] == 125 and run.details[0]["balance"] == 5
    with pytest.raises(CommandError):
        call_command("rewards_audit", "--no-store")
    assert AuditRun.objects.count() == 2  # --no-store records nothing
