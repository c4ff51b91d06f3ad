"""Property: any sequence of credits, debits, reversals and scans keeps the ledger exact."""

from __future__ import annotations

import itertools

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
