"""Concurrency with real parallel database connections (one thread = one connection)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from focusedroom.errors import Conflict
from focusedroom.testing import run_in_parallel
from profiles import services
from profiles.models import BudgetAlertFiring, CampaignProfileUsage, ProfileContainer, TargetCustomerProfile
from profiles.tests.factories import make_budget, make_container, make_profile

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_editors_of_the_same_version_never_overwrite_each_other():
    profile = make_profile()
    names = ("Alice's edit", "Bob's edit")
    winners, losers = run_in_parallel(
        2,
        lambda i: services.record_update(record=profile, changes={"name": names[i]}, expected_version=1, actor=None),
    )
    assert len(winners) == 1 and isinstance(winners[0], TargetCustomerProfile), (winners, losers)
    assert len(losers) == 1 and isinstance(losers[0], Conflict), losers
    assert losers[0].extra == {"current_version": 2}
    profile.refresh_from_db()
    assert (profile.version, profile.name) == (2, winners[0].name)


def test_many_parallel_default_switches_leave_exactly_one_default():
    containers = [make_container(complete=False, name=f"C{i}") for i in range(6)]
    results, errors = run_in_parallel(
        len(containers),
        lambda i: services.container_make_default(
            container=containers[i], expected_version=containers[i].version, actor=None
        ),
    )
    assert not errors and all(isinstance(r, ProfileContainer) for r in results), errors
    assert ProfileContainer.objects.filter(account_id="acct-1", is_default=True).count() == 1
    # Every switch but the first un-defaulted its predecessor: one new version each.
    assert sum(c.version for c in ProfileContainer.objects.all()) == 6 + 6 + 5


def test_parallel_usage_records_for_one_campaign_keep_one_active_row():
    containers = [make_container(name=f"C{i}") for i in range(4)]
    results, errors = run_in_parallel(
        len(containers),
        lambda i: services.campaign_usage_record(
            campaign_id="summer", account_id="acct-1", usage_type="CONTAINER", container=containers[i], actor=None
        ),
    )
    assert not errors, errors
    assert all(isinstance(usage, CampaignProfileUsage) for usage, _ in results), results
    assert CampaignProfileUsage.objects.filter(campaign_id="summer").count() == 1
    assert len({usage.pk for usage, _ in results}) == 1
    assert sorted(created for _, created in results) == [False, False, False, True]


def test_parallel_spend_adds_up_and_each_alert_fires_once():
    budget = make_budget(amount=Decimal("100.00"), alerts=[{"threshold": 50}, {"threshold": 100}])
    results, errors = run_in_parallel(
        10, lambda i: services.budget_record_spend(budget=budget, add="10.00", actor=None)
    )
    assert not errors and len(results) == 10, errors
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
        calls = (
            lambda p=profile: services.record_soft_delete(record=p, actor=None),
            lambda p=profile, r=round_: services.container_create(
                account_id="acct-1", data={"name": f"C{r}", "customer_profile": p}, actor=None
            ),
        )
        _, errors = run_in_parallel(2, lambda i: calls[i]())
        assert all(isinstance(e, Conflict | ValidationError) for e in errors), errors
        profile.refresh_from_db()
        dangling = ProfileContainer.objects.filter(customer_profile=profile).exists() and profile.deleted_at is not None
        assert not dangling


def test_parallel_first_setups_of_one_account_make_one_default_container():
    parts = {
        "customer_profile": {"name": "Audience"},
        "brand_guidelines": {"brand_name": "Brand"},
        "budget": {"name": "Budget", "amount": Decimal("10.00")},
        "container": {"name": "Default container"},
    }
    results, errors = run_in_parallel(
        4, lambda i: services.account_first_setup(account_id="fresh", **parts, actor=None)
    )
    assert len(results) == 1 and isinstance(results[0], ProfileContainer), errors
    assert len(errors) == 3 and all(isinstance(e, Conflict) for e in errors), errors
    assert ProfileContainer.objects.filter(account_id="fresh").count() == 1
    assert TargetCustomerProfile.objects.filter(account_id="fresh").count() == 1
