"""Demo data and the ``budget_spend`` command."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import StaffFactory
from profiles import demo, selectors
from profiles.models import BrandGuidelines, BudgetAlertFiring, CampaignProfileUsage, ProfileContainer
from profiles.tests.factories import make_budget

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent():
    assert demo.seed(scale=10) == "3 campaign accounts created, 0 already there"
    assert demo.seed(scale=10) == "0 campaign accounts created, 3 already there"
    assert ProfileContainer.objects.filter(is_default=True).count() == 3
    assert CampaignProfileUsage.objects.filter(is_active=True).count() == 2
    summary = selectors.account_profile_summary(account_id="acme-fitness")
    assert summary["total_containers"] == 2 and summary["complete_containers"] == 1
    assert BudgetAlertFiring.objects.filter(budget__account_id="acme-fitness").count() == 2  # 50 and 80 %


def test_seeding_again_after_renaming_or_deleting_demo_records_duplicates_nothing():
    demo.seed(scale=10)
    from profiles import services

    container = ProfileContainer.objects.get(account_id="focusedroom", is_default=True)
    services.record_update(
        record=container, changes={"name": "Renamed"}, expected_version=container.version, actor=None
    )
    services.record_soft_delete(
        record=ProfileContainer.objects.get(account_id="acme-fitness", status="DRAFT"), actor=None
    )
    assert demo.seed(scale=10) == "0 campaign accounts created, 3 already there"
    assert BrandGuidelines.all_objects.filter(brand_name="FocusedRoom").count() == 1


def test_every_demo_account_has_its_own_brand():
    """The agency clients of large scales copy a named account's audience, not its brand."""
    accounts = demo.accounts_for(40_000)
    assert len(accounts) == 7
    brands = [spec["guidelines"]["brand_name"] for _, spec in accounts]
    assert len(set(brands)) == len(brands)
    assert brands.count("FocusedRoom") == 1


def test_budget_spend_command_records_the_actor():
    staff = StaffFactory(email="ops@focusedroom.local")
    budget = make_budget(amount=Decimal("100.00"), alerts=[{"threshold": 50}])
    out = StringIO()
    call_command("budget_spend", str(budget.pk), "--add", "60", "--actor", "OPS@focusedroom.local", stdout=out)
    assert "Alert fired: 50.00%" in out.getvalue()
    budget.refresh_from_db()
    assert (budget.amount_spent, budget.updated_by, budget.version) == (Decimal("60.00"), staff, 2)
    out = StringIO()
    call_command("budget_spend", str(budget.pk), "--set", "45.50", "--actor", staff.email, stdout=out)
    assert "spent 45.50 of 100.00" in out.getvalue() and "Alert fired" not in out.getvalue()
    with pytest.raises(CommandError, match="No staff member"):
        call_command("budget_spend", str(budget.pk), "--set", "1", "--actor", "nobody@example.com")
    with pytest.raises(CommandError, match="negative"):
        call_command("budget_spend", str(budget.pk), "--add", "-100", "--actor", staff.email)
    with pytest.raises(CommandError, match="No live budget"):
        call_command("budget_spend", "not-a-uuid", "--set", "1", "--actor", staff.email)
