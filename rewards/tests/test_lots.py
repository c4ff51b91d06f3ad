"""Lots: expiry dates from the brand rule, consumption order, the expiry job, its warning and the audit."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from focusedroom.testing import run_in_parallel
from rewards import lots, selectors, services, signals
from rewards.models import LedgerEntry, LotState, Wallet

UTC = timezone.get_fixed_timezone(0)
T0 = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


@contextmanager
def at(moment: datetime):
    """Every ``timezone.now()`` answers ``moment`` (the ledger's clock included)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def set_rule(brand, **rule):
    brand.settings = {**(brand.settings or {}), "rewards": {**(brand.settings or {}).get("rewards", {}), **rule}}
    brand.save()


def credit(member, amount, key, when):
    with at(when):
        return services.gems_credit(user=member, amount=amount, reason="adjustment", idempotency_key=key)


def debit(member, amount, key, when):
    with at(when):
        return services.gems_debit(user=member, amount=amount, reason="redemption", idempotency_key=key)


# ------------------------------------------------------------------------- the rule


def test_rolling_rule_adds_months_and_keeps_the_month_end():
    assert lots.expires_at_for({"rule": "rolling", "months": 12}, at=T0) == T0.replace(year=2028)
    jan31 = datetime(2027, 1, 31, 9, 30, tzinfo=UTC)
    assert lots.expires_at_for({"rule": "rolling", "months": 1}, at=jan31) == datetime(2027, 2, 28, 9, 30, tzinfo=UTC)
    assert lots.expires_at_for({"rule": "none"}, at=T0) is None


@pytest.mark.parametrize(
    ("period", "periods", "expected"),
    [
        ("month", 1, (2027, 1, 31)),
        ("quarter", 1, (2027, 3, 31)),
        ("year", 1, (2027, 12, 31)),
        ("year", 2, (2028, 12, 31)),
        ("quarter", 2, (2027, 6, 30)),
    ],
)
def test_period_end_rule_ends_at_the_last_instant_of_the_period(period, periods, expected):
    moment = lots.expires_at_for({"rule": "period_end", "period": period, "periods": periods}, at=T0)
    assert moment.date() == datetime(*expected).date()
    assert (moment.hour, moment.minute, moment.second) == (23, 59, 59)
    nov = datetime(2027, 11, 15, tzinfo=UTC)
    assert lots.expires_at_for({"rule": "period_end", "period": "quarter"}, at=nov).date().isoformat() == "2027-12-31"


@pytest.mark.django_db
def test_brand_settings_refuse_a_rule_without_its_parameters(default_brand):
    default_brand.settings = {"rewards": {"expiry": {"rule": "rolling"}}}
    with pytest.raises(ValidationError):
        default_brand.save()
    default_brand.settings = {"rewards": {"expiry": {"rule": "period_end", "period": "week"}}}
    with pytest.raises(ValidationError):
        default_brand.save()
    default_brand.settings = {"rewards": {"expiry": {"rule": "period_end", "period": "year"}}}
    default_brand.save()


# ------------------------------------------------------------------ pure replay


def row(id, kind, amount, reason="adjustment", expires=None, reverses=None, lot=None):
    return lots.Row(id, kind, amount, reason, expires, reverses, lot)


def test_debits_spend_the_soonest_expiring_lot_first_then_lots_that_never_expire():
    soon, later = T0 + timedelta(days=10), T0 + timedelta(days=100)
    replayed = lots.replay(
        [
            row(1, "CREDIT", 100),  # never expires
            row(2, "CREDIT", 50, expires=later),
            row(3, "CREDIT", 30, expires=soon),
            row(4, "DEBIT", 60, "redemption"),
        ]
    )
    assert replayed.spent[4] == [(3, 30), (2, 30)]
    assert [(lot.id, lot.remaining) for lot in replayed.live_lots()] == [(2, 20), (1, 100)]
    assert replayed.balance == 120 and replayed.never_expire == 100
    assert replayed.schedule() == [{"expires_at": later, "amount": 20, "lots": [2]}]
    assert replayed.issues == []


def test_equal_dates_spend_the_oldest_lot_first_and_a_reversal_takes_its_own_lot_first():
    day = T0 + timedelta(days=5)
    replayed = lots.replay(
        [
            row(1, "CREDIT", 10, expires=day),
            row(2, "CREDIT", 10, expires=day),
            row(3, "DEBIT", 4, "redemption"),
            row(4, "DEBIT", 10, "reversal", reverses=2),
        ]
    )
    assert replayed.spent[3] == [(1, 4)]
    assert replayed.spent[4] == [(2, 10)]
    assert replayed.lots[1].remaining == 6 and replayed.lots[2].remaining == 0


def test_an_expired_lot_is_never_spent_and_a_wrong_expiry_or_an_uncovered_debit_is_an_issue():
    replayed = lots.replay(
        [
            row(1, "CREDIT", 10, expires=T0),
            row(2, "CREDIT", 5),
            row(3, "DEBIT", 10, "expiry", lot=1),
            row(4, "DEBIT", 5, "redemption"),
        ]
    )
    assert replayed.spent[4] == [(2, 5)] and replayed.issues == [] and replayed.balance == 0
    bad = lots.replay([row(1, "CREDIT", 10, expires=T0), row(2, "DEBIT", 7, "expiry", lot=1), row(3, "DEBIT", 9)])
    assert any("had 10 left" in issue for issue in bad.issues)
    assert any("more than the live lots" in issue for issue in bad.issues)


# ---------------------------------------------------------------- through the ledger


@pytest.mark.django_db
def test_credits_carry_the_brand_rule_at_credit_time_and_reversals_do_not(make_member, default_brand):
    member = make_member()
    services.member_enrol(user=member)  # the welcome credit, before any rule: never expires
    set_rule(default_brand, expiry={"rule": "rolling", "months": 6})
    entry = credit(member, 40, "c1", T0)
    assert entry.expires_at == T0.replace(month=7)
    assert LedgerEntry.objects.get(reason="welcome", wallet__user=member).expires_at is None
    reversal, _ = services.ledger_reverse(entry=entry, actor=None, reason="mistake")
    assert reversal.expires_at is None


@pytest.mark.django_db
def test_a_redemption_spends_the_oldest_expiring_gems_and_the_schedule_shows_what_is_left(make_member, default_brand):
    member = make_member()
    services.member_enrol(user=member)  # 100 gems that never expire
    set_rule(default_brand, expiry={"rule": "period_end", "period": "month"})
    credit(member, 30, "jan", T0)  # expires 31 Jan
    credit(member, 50, "feb", T0 + timedelta(days=30))  # expires 28 Feb
    debit(member, 40, "spend", T0 + timedelta(days=31))
    schedule = selectors.expiry_schedule(user=member)
    assert [(s["expires_at"].date().isoformat(), s["amount"]) for s in schedule["schedule"]] == [("2027-02-28", 40)]
    assert schedule["never_expire"] == 100
    assert Wallet.objects.get(user=member).balance == 140
    summary = selectors.wallet_summary(user=member)
    assert summary["next_expiry"]["amount"] == 40 and summary["available"] == 140


@pytest.mark.django_db
def test_giving_back_a_redemption_keeps_the_dates_of_the_gems_it_spent(make_member, default_brand, staff_with_perms):
    member = make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    lot = credit(member, 80, "lot", T0)
    with at(T0 + timedelta(days=3)):
        redemption, _ = services.redemption_create(
            user=member,
            reward_item=services.reward_item_create(
                data={"brand": default_brand, "key": "call", "name": "Call", "cost": 50}
            ),
        )
    with at(T0 + timedelta(days=4)):
        refund = services.redemption_reverse(
            redemption=redemption, actor=staff_with_perms("rewards.reverse_redemption"), reason="out of stock"
        )
    assert refund.reversal_entry.expires_at == lot.expires_at
    assert services.rewards_audit(store=False).is_clean


# ------------------------------------------------------------------- the expiry job


@pytest.mark.django_db
def test_the_job_expires_what_is_left_of_each_due_lot_once(make_member, default_brand):
    member = make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    first = credit(member, 60, "a", T0)
    second = credit(member, 40, "b", T0 + timedelta(days=10))
    debit(member, 25, "d", T0 + timedelta(days=20))  # from the first lot
    after_first = first.expires_at + timedelta(hours=1)
    with at(after_first):
        done = services.lots_expire()
        again = services.lots_expire()
    assert done["expired_lots"] == 1 and done["expired_gems"] == 35
    assert again["expired_lots"] == 0 and again["expired_gems"] == 0
    expiry = LedgerEntry.objects.get(reason="expiry")
    assert (expiry.kind, expiry.amount, expiry.lot_id, expiry.idempotency_key) == (
        "DEBIT",
        35,
        first.pk,
        f"expiry:{first.pk}",
    )
    assert Wallet.objects.get(user=member).balance == 40
    assert LotState.objects.get(lot=first).expired_amount == 35
    with at(second.expires_at + timedelta(minutes=1)):
        call_command("expire_gems")
    assert Wallet.objects.get(user=member).balance == 0
    assert LedgerEntry.objects.filter(reason="expiry").count() == 2
    assert Wallet.objects.get(user=member).lifetime_earned == 100  # expiry is not a reversed earning
    audit = services.rewards_audit(store=False)
    assert audit.is_clean and audit.lots_checked == 2


@pytest.mark.django_db
def test_a_fully_spent_lot_is_closed_without_an_entry_or_a_warning(make_member, default_brand):
    member = make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    lot = credit(member, 20, "a", T0)
    debit(member, 20, "d", T0 + timedelta(days=1))
    with at(lot.expires_at - timedelta(days=3)):
        done = services.lots_expire()
    assert done["closed_spent"] == 1 and done["warned_lots"] == 0
    state = LotState.objects.get(lot=lot)
    assert state.closed_at is not None and state.warned_at is None


@pytest.mark.django_db
def test_members_are_warned_once_fourteen_days_before(make_member, default_brand):
    member = make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 2}, welcome=0)
    lot = credit(member, 70, "a", T0)
    sent = []
    signals.gems_expiring.connect(lambda sender, **kw: sent.append(kw), weak=False, dispatch_uid="test-warn")
    try:
        with at(lot.expires_at - timedelta(days=15)):
            assert services.lots_expire()["warned_lots"] == 0
        for hours in (0, 1, 24):
            with at(lot.expires_at - timedelta(days=14) + timedelta(hours=hours)):
                services.lots_expire()
        with at(lot.expires_at + timedelta(minutes=5)):
            assert services.lots_expire()["expired_gems"] == 70
    finally:
        signals.gems_expiring.disconnect(dispatch_uid="test-warn")
    assert len(sent) == 1
    assert sent[0]["user"] == member and sent[0]["amount"] == 70 and sent[0]["expires_at"] == lot.expires_at
    assert [item["lot_id"] for item in sent[0]["lots"]] == [lot.pk]
    assert LotState.objects.get(lot=lot).warned_at is not None


@pytest.mark.django_db
def test_the_database_refuses_an_expiry_of_a_lot_not_yet_due_or_of_another_wallet(make_member, default_brand):
    a, b = make_member(), make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    lot = credit(a, 10, "a", T0)
    credit(b, 10, "b", T0)
    wallet_b = Wallet.objects.get(user=b)
    for wallet, created in ((wallet_b, lot.expires_at + timedelta(days=1)), (lot.wallet, T0 + timedelta(days=1))):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                wallet=wallet,
                kind="DEBIT",
                amount=1,
                reason="expiry",
                brand=default_brand,
                idempotency_key=f"x{wallet.pk}",
                lot=lot,
                created_at=created,
            )
    with pytest.raises(ValidationError):
        services.gems_debit(user=a, amount=1, reason="expiry", idempotency_key="no")


@pytest.mark.django_db
def test_the_audit_finds_an_expiry_entry_that_disagrees_with_its_lot(make_member, default_brand):
    member = make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    lot = credit(member, 10, "a", T0)
    wallet = Wallet.objects.get(user=member)
    with at(lot.expires_at + timedelta(hours=1)), transaction.atomic():
        locked = Wallet.objects.select_for_update().get(pk=wallet.pk)
        services.ledger.entry_write(
            wallet=locked,
            user=member,
            kind="DEBIT",
            amount=4,  # the lot had 10 left
            reason="expiry",
            brand=default_brand,
            idempotency_key="tampered",
            lot=lot,
        )
    audit = services.rewards_audit(store=False)
    assert audit.differences == 0 and audit.lot_differences == 1
    assert "had 10 left" in audit.details[0]["lots"][0]
    with pytest.raises(Exception, match="differ"):
        call_command("rewards_audit", "--no-store")


@pytest.mark.django_db
def test_the_lot_audit_reads_wallets_a_few_at_a_time_and_still_finds_the_one_that_disagrees(
    make_member, default_brand, monkeypatch
):
    monkeypatch.setattr(services.ledger, "AUDIT_WALLETS_PER_QUERY", 2)
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    members = [make_member() for _ in range(5)]
    for i, member in enumerate(members):
        for n in range(3):
            credit(member, 5 + n, f"m{i}-{n}", T0 + timedelta(days=n))
        services.gems_debit(user=member, amount=6, reason="redemption", idempotency_key=f"spend-{i}")
    assert services.rewards_audit(store=False).is_clean
    tampered = Wallet.objects.get(user=members[3])
    Wallet.objects.filter(pk=tampered.pk).update(balance=tampered.balance + 1)  # the balance drifts from its lots
    audit = services.rewards_audit(store=False)
    assert audit.lots_checked == 15 and audit.lot_differences == 1
    assert [d["user_id"] for d in audit.details if "lots" in d] == [members[3].pk]


@pytest.mark.django_db(transaction=True)
def test_the_job_and_parallel_redemptions_never_spend_an_expired_lot_nor_overdraw(make_member, default_brand):
    member = make_member()
    set_rule(default_brand, expiry={"rule": "rolling", "months": 1}, welcome=0)
    lot = credit(member, 50, "due", T0)
    credit(member, 30, "later", T0 + timedelta(days=20))
    moment = lot.expires_at + timedelta(hours=2)

    def work(i):
        if i == 0:
            return services.lots_expire()
        return services.gems_debit(user=member, amount=10, reason="redemption", idempotency_key=f"r{i}")

    with at(moment):  # one clock for every thread
        results, errors = run_in_parallel(9, work)
    assert all(isinstance(e, services.InsufficientGems) for e in errors)
    wallet = Wallet.objects.get(user=member)
    expired = sum(LedgerEntry.objects.filter(reason="expiry").values_list("amount", flat=True))
    debits = LedgerEntry.objects.filter(reason="redemption").count()
    assert wallet.balance == 80 - 10 * debits - expired >= 0
    assert LotState.objects.get(lot=lot).closed_at is not None  # the due lot is done with, whoever came first
    assert LedgerEntry.objects.filter(lot=lot).count() <= 1
    # the later lot only paid for debits: what the debits left of the due lot expired
    replayed = services.wallet_replay(wallet=wallet)
    assert replayed.lots[lot.pk].remaining == 0 and replayed.balance == wallet.balance
    audit = services.rewards_audit(store=False)
    assert audit.is_clean, audit.details
