"""Concurrency with real parallel database connections (one thread = one connection)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from focusedroom.errors import Conflict
from profiles import services
from profiles.models import BudgetAlertFiring, CampaignProfileUsage, ProfileContainer, TargetCustomerProfile
from profiles.tests.factories import make_budget, make_container, make_profile

pytestmark = pytest.mark.django_db(transaction=True)


def in_parallel(calls: list[Callable[[], object]]) -> list[object]:
    """Run each call in its own thread and connection, released together; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_editors_of_the_same_version_never_overwrite_each_other():
    profile = make_profile()
    results = in_parallel(
        [
            lambda name=name: services.record_update(
                record=profile, changes={"name": name}, expected_version=1, actor=None
            )
            for name in ("Alice's edit", "Bob's edit")
        ]
    )
    winners = [r for r in results if isinstance(r, TargetCustomerProfile)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].extra == {"current_version": 2}
    profile.refresh_from_db()
    assert (profile.version, profile.name) == (2, winners[0].name)


def test_many_parallel_default_switches_leave_exactly_one_default():
    containers = [make_container(complete=False, name=f"C{i}") for i in range(6)]
    results = in_parallel(
        [
            lambda c=c: services.container_make_default(container=c, expected_version=c.version, actor=None)
            for c in containers
        ]
    )
    assert all(isinstance(r, ProfileContainer) for r in results), results
    assert ProfileContainer.objects.filter(account_id="acct-1", is_default=True).count() == 1
    # Every switch but the first un-defaulted its predecessor: one new version each.
    assert sum(c.version for c in ProfileContainer.objects.all()) == 6 + 6 + 5


def test_parallel_usage_records_for_one_campaign_keep_one_active_row():
    containers = [make_container(name=f"C{i}") for i in range(4)]
    results = in_parallel(
        [
            lambda c=c: services.campaign_usage_record(
                campaign_id="summer", account_id="acct-1", usage_type="CONTAINER", container=c, actor=None
            )
            for c in containers
        ]
    )
    assert all(isinstance(r, tuple) and isinstance(r[0], CampaignProfileUsage) for r in results), results
    assert CampaignProfileUsage.objects.filter(campaign_id="summer").count() == 1
    assert len({usage.pk for usage, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]


def test_parallel_spend_adds_up_and_each_alert_fires_once():
    budget = make_budget(amount=Decimal("100.00"), alerts=[{"threshold": 50}, {"threshold": 100}])
    results = in_parallel(
        [lambda: services.budget_record_spend(budget=budget, add="10.00", actor=None) for _ in range(10)]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    budget.refresh_from_db()
    assert (budget.amount_spent, budget.percentage_spent, budget.version) == (Decimal("100.00"), Decimal("100.00"), 11)
    assert sorted(BudgetAlertFiring.objects.values_list("threshold", flat=True)) == [
        Decimal("50.00"),
        Decimal("100.00"),
    ]
    assert sum(len(r.alerts_fired) for r in results) == 2


def test_soft_delete_racing_a_new_container_never_leaves_a_dangling_reference():
    for round_ in range(5):
        profile = make_profile(name=f"P{round_}")
        results = in_parallel(
            [
                lambda p=profile: services.record_soft_delete(record=p, actor=None),
                lambda p=profile, r=round_: services.container_create(
                    account_id="acct-1", data={"name": f"C{r}", "customer_profile": p}, actor=None
                ),
            ]
        )
        assert all(not isinstance(r, Exception) or isinstance(r, Conflict | ValidationError) for r in results), results
        profile.refresh_from_db()
        dangling = ProfileContainer.objects.filter(customer_profile=profile).exists() and profile.deleted_at is not None
        assert not dangling
