"""Demo data and the ``budget_spend`` command."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import StaffFactory
from profiles import demo, selectors
from profiles.models import BudgetAlertFiring, CampaignProfileUsage, ProfileContainer
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
