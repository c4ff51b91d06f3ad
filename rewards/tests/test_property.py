"""Property: any sequence of credits, debits, reversals, scans, expiries and releases keeps the ledger exact."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from focusedroom.errors import ApplicationError
from rewards import services
from rewards.models import LedgerEntry, Product, Wallet

counter = itertools.count()

operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(min_value=1, max_value=300), st.integers(0, 2)),
    st.tuples(st.just("debit"), st.integers(min_value=1, max_value=300), st.integers(0, 2)),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50), st.integers(0, 2)),
    st.tuples(st.just("scan"), st.integers(min_value=0, max_value=2), st.integers(0, 2)),
    st.tuples(st.just("retry"), st.integers(min_value=0, max_value=50), st.integers(0, 2)),
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=30))
def test_random_operations_keep_the_audit_clean_and_balances_non_negative(ops, make_member, default_brand, ranks):
    run = next(counter)
    members = [make_member() for _ in range(3)]
    products = [
        Product.objects.get_or_create(
            brand=default_brand, sku=f"P{i}", defaults={"name": f"P{i}", "msrp": 10, "points_award": 15 * (i + 1)}
        )[0]
        for i in range(3)
    ]
    keys: list[tuple] = []
    for op, value, who in ops:
        member = members[who]
        try:
            if op == "credit":
                key = f"{run}-c-{len(keys)}"
                services.gems_credit(user=member, amount=value, reason="adjustment", idempotency_key=key)
                keys.append((member, value, key, "credit"))
            elif op == "debit":
                key = f"{run}-d-{len(keys)}"
                services.gems_debit(user=member, amount=value, reason="redemption", idempotency_key=key)
                keys.append((member, value, key, "debit"))
            elif op == "reverse":
                entries = list(LedgerEntry.objects.filter(reverses__isnull=True).exclude(reason="reversal"))
                if entries:
                    services.ledger_reverse(entry=entries[value % len(entries)], actor=None, reason="property")
            elif op == "scan":
                services.product_scan(user=member, sku=products[value].sku, brand=default_brand.slug)
            elif op == "retry" and keys:
                m, amount, key, kind = keys[value % len(keys)]
                fn = services.gems_credit if kind == "credit" else services.gems_debit
                fn(
                    user=m,
                    amount=amount,
                    reason="adjustment" if kind == "credit" else "redemption",
                    idempotency_key=key,
                )
        except ApplicationError:
            pass  # refused (short balance): nothing written
    audit = services.rewards_audit(store=False)
    assert audit.differences == 0, audit.details
    assert not Wallet.objects.filter(balance__lt=0).exists()
    for member in members:
        wallet = services.member_enrol(user=member)
        signed = sum(e.signed_amount for e in wallet.entries.all())
        assert wallet.balance == signed


lot_operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(min_value=1, max_value=300), st.integers(0, 1)),
    st.tuples(st.just("debit"), st.integers(min_value=1, max_value=300), st.integers(0, 1)),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=50), st.integers(0, 1)),
    st.tuples(st.just("scan"), st.integers(min_value=0, max_value=1), st.integers(0, 1)),
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=40), st.integers(0, 1)),
    st.tuples(st.just("expire"), st.integers(min_value=0, max_value=0), st.integers(0, 1)),
    st.tuples(st.just("release"), st.integers(min_value=0, max_value=0), st.integers(0, 1)),
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(lot_operation, min_size=1, max_size=30), rule=st.sampled_from(["rolling", "period_end"]))
def test_random_operations_with_expiring_lots_keep_lots_and_balances_in_agreement(
    ops, rule, make_member, default_brand
):
    """Credits expire (rolling month or end of month), scans are held 3 days, the clock moves, the expiry
    and release jobs run at random: the audit stays clean, lots and balances agree, no lot is expired twice."""
    run = next(counter)
    default_brand.settings = {
        "rewards": {
            "expiry": {"rule": "rolling", "months": 1}
            if rule == "rolling"
            else {"rule": "period_end", "period": "month"},
            "pending_days": {"product_scan": 3},
        }
    }
    default_brand.save()
    members = [make_member() for _ in range(2)]
    products = [
        Product.objects.get_or_create(
            brand=default_brand, sku=f"L{i}", defaults={"name": f"L{i}", "msrp": 10, "points_award": 20 * (i + 1)}
        )[0]
        for i in range(2)
    ]
    clock = [datetime(2027, 1, 1, 12, tzinfo=UTC)]
    for n, (op, value, who) in enumerate(ops):
        member = members[who]
        with mock.patch("django.utils.timezone.now", return_value=clock[0]):
            try:
                if op == "credit":
                    services.gems_credit(user=member, amount=value, reason="adjustment", idempotency_key=f"{run}-c{n}")
                elif op == "debit":
                    services.gems_debit(user=member, amount=value, reason="redemption", idempotency_key=f"{run}-d{n}")
                elif op == "reverse":
                    entries = list(
                        LedgerEntry.objects.filter(reverses__isnull=True, wallet__user__in=members)
                        .exclude(reason__in=["reversal", "expiry"])
                        .order_by("id")
                    )
                    if entries:
                        services.ledger_reverse(entry=entries[value % len(entries)], actor=None, reason="property")
                elif op == "scan":
                    services.product_scan(user=member, sku=products[value].sku, brand=default_brand.slug)
                elif op == "advance":
                    clock[0] += timedelta(days=value)
                elif op == "expire":
                    services.lots_expire()
                elif op == "release":
                    services.pending_credits_release()
            except ApplicationError:
                pass  # refused (short balance): nothing written
    audit = services.rewards_audit(store=False)
    assert audit.is_clean, audit.details
    for member in members:
        wallet = services.member_enrol(user=member)
        replayed = services.wallet_replay(wallet=wallet)
        assert replayed.issues == [] and replayed.balance == wallet.balance >= 0
        for lot_id, lot in replayed.lots.items():
            assert LedgerEntry.objects.filter(lot_id=lot_id).count() <= 1
            if lot.closed:  # an expiry took exactly what was left, at or after the lot's date
                expiry = LedgerEntry.objects.get(lot_id=lot_id)
                assert expiry.amount == lot.expired and expiry.created_at >= lot.expires_at
