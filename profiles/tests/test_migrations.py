"""The database rules after a fresh migrate and after the move from hand-written SQL (0003).

Both paths must end with the same rules — the ones declared on the models — and the move
must keep every row and its version history.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounts.tests.factories import StaffFactory
from profiles.models import (
    BrandGuidelines,
    Budget,
    BudgetAlertFiring,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
)

pytestmark = pytest.mark.django_db(transaction=True)

HAND_WRITTEN_TRIGGERS = ("profiles_versioning", "profiles_version_history", "profiles_check_references")
HAND_WRITTEN_FUNCTIONS = (*HAND_WRITTEN_TRIGGERS, "profiles_refuse_soft_delete")
TABLES = (
    "target_customer_profiles",
    "brand_guidelines",
    "budgets",
    "customer_profile_containers",
    "campaign_profile_usage",
    "budget_alert_firings",
    "profile_version_history",
)
FOREIGN_KEY_ACTIONS = {
    "customer_profile_containers.customer_profile_id": "r",
    "customer_profile_containers.brand_guidelines_id": "r",
    "customer_profile_containers.budget_id": "r",
    "campaign_profile_usage.container_id": "c",
    "campaign_profile_usage.customer_profile_id": "c",
    "campaign_profile_usage.brand_guidelines_id": "c",
    "campaign_profile_usage.budget_id": "c",
    "budget_alert_firings.budget_id": "c",
}


def migrate(target: str):
    """Migrate ``profiles`` to ``target`` (a migration name, "zero" or "latest"); the apps of that state."""
    executor = MigrationExecutor(connection)
    if target == "latest":
        # Every app's head: going back unapplies the migrations of other apps that depend on
        # ``profiles`` (integrations' audiences), and "latest" brings them back too.
        targets = executor.loader.graph.leaf_nodes()
    else:
        targets = [("profiles", None if target == "zero" else target)]
    executor.migrate(targets)
    if target == "zero":
        return None
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Whatever happens in the test, the database ends at the latest migration."""
    yield
    migrate("latest")


def sql(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall() if cursor.description else None


def refused(query: str, params=None, *, match: str) -> None:
    with pytest.raises((IntegrityError, DatabaseError)) as info, transaction.atomic():
        sql(query, params)
    constraint = getattr(getattr(info.value.__cause__, "diag", None), "constraint_name", None) or ""
    assert match in f"{info.value} {constraint}", f"{info.value} ({constraint})"


def history(profile_type: str, profile_id) -> list[tuple]:
    return sql(
        "SELECT version, data ->> 'name', created_by_id FROM profile_version_history "
        "WHERE profile_type = %s AND profile_id = %s ORDER BY version",
        [profile_type, profile_id],
    )


def assert_declared_rules_are_installed() -> None:
    """The database holds exactly the declared rules: no hand-written trigger or function is left."""
    triggers = sql(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
        "WHERE NOT tgisinternal AND tgrelid::regclass::text = ANY(%s)",
        [list(TABLES)],
    )
    assert triggers, "no trigger at all"
    assert all(name.startswith("pgtrigger_") for _, name in triggers), triggers
    functions = sql("SELECT proname FROM pg_proc WHERE proname = ANY(%s)", [list(HAND_WRITTEN_FUNCTIONS)])
    assert functions == []
    declared = 0
    for model in (TargetCustomerProfile, BrandGuidelines, Budget, ProfileContainer, CampaignProfileUsage):
        for trigger in model._meta.triggers:
            assert trigger.get_installation_status(model)[0] == "INSTALLED", (model, trigger.name)
            declared += 1
    assert declared == 14  # versioning, history, soft-delete refusal on 4 tables; 2 reference checks
    assert len([t for t in triggers if t[0] != "profile_version_history"]) == declared
    actions = dict(
        sql(
            """
            SELECT conrelid::regclass::text || '.' || a.attname, confdeltype
              FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND conrelid::regclass::text = ANY(%s)
               AND confrelid::regclass::text <> 'accounts_user'
            """,
            [list(TABLES)],
        )
    )
    assert actions == FOREIGN_KEY_ACTIONS


def assert_rules_hold(*, account_id: str) -> None:
    """Every rule, exercised with raw SQL on new rows of ``account_id``."""
    # Versioning and history.
    profile = sql(
        "INSERT INTO target_customer_profiles (account_id, name) VALUES (%s, 'Fresh') RETURNING id", [account_id]
    )[0][0]
    sql("UPDATE target_customer_profiles SET name = 'Renamed' WHERE id = %s", [profile])
    sql("UPDATE target_customer_profiles SET name = 'Renamed' WHERE id = %s", [profile])  # no change
    assert sql("SELECT version FROM target_customer_profiles WHERE id = %s", [profile]) == [(2,)]
    assert [row[:2] for row in history("target_customer_profiles", profile)] == [(1, "Fresh"), (2, "Renamed")]
    refused(
        "INSERT INTO target_customer_profiles (account_id, name, version) VALUES (%s, 'x', 2)",
        [account_id],
        match="version_starts_at_1",
    )
    refused(
        "UPDATE target_customer_profiles SET name = 'x', version = 9 WHERE id = %s",
        [profile],
        match="version_increments_by_1",
    )
    refused("UPDATE target_customer_profiles SET account_id = 'elsewhere' WHERE id = %s", [profile], match="immutable")
    # References: same account, live.
    foreign_budget = sql("INSERT INTO budgets (account_id, name, amount) VALUES ('elsewhere', 'b', 1) RETURNING id")[0][
        0
    ]
    refused(
        "INSERT INTO customer_profile_containers (account_id, name, budget_id) VALUES (%s, 'c', %s)",
        [account_id, foreign_budget],
        match="customer_profile_containers_same_account",
    )
    container = sql(
        "INSERT INTO customer_profile_containers (account_id, name, customer_profile_id) VALUES (%s, 'c', %s) "
        "RETURNING id",
        [account_id, profile],
    )[0][0]
    # No soft delete while in use; no hard delete while referenced (RESTRICT).
    refused(
        "UPDATE target_customer_profiles SET deleted_at = now() WHERE id = %s",
        [profile],
        match="target_customer_profiles_in_use",
    )
    refused("DELETE FROM target_customer_profiles WHERE id = %s", [profile], match="foreign key")
    sql(
        "INSERT INTO campaign_profile_usage (account_id, campaign_id, usage_type, container_id) "
        "VALUES (%s, %s, 'CONTAINER', %s)",
        [account_id, f"{account_id}-campaign", container],
    )
    refused(
        "UPDATE customer_profile_containers SET deleted_at = now() WHERE id = %s",
        [container],
        match="customer_profile_containers_in_use",
    )
    # CASCADE: deleting the container takes its usage along.
    sql("DELETE FROM customer_profile_containers WHERE id = %s", [container])
    assert sql("SELECT count(*) FROM campaign_profile_usage WHERE container_id = %s", [container]) == [(0,)]
    sql("UPDATE target_customer_profiles SET deleted_at = now() WHERE id = %s", [profile])
    refused(
        "INSERT INTO customer_profile_containers (account_id, name, customer_profile_id) VALUES (%s, 'c', %s)",
        [account_id, profile],
        match="customer_profile_containers_live_references",
    )
    # The history is append-only.
    refused("DELETE FROM profile_version_history WHERE profile_id = %s", [profile], match="no_delete")


def test_a_fresh_migrate_declares_every_rule(back_to_latest):
    migrate("zero")
    assert sql("SELECT to_regclass('target_customer_profiles')") == [(None,)]
    migrate("latest")
    assert_declared_rules_are_installed()
    assert_rules_hold(account_id="fresh")


def test_the_move_from_hand_written_rules_keeps_rows_history_and_rules(back_to_latest):
    staff = StaffFactory()
    apps = migrate("0003_database_rules")
    assert sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'profiles_versioning'") == [(4,)]
    Profile = apps.get_model("profiles", "TargetCustomerProfile")
    Guidelines = apps.get_model("profiles", "BrandGuidelines")
    OldBudget = apps.get_model("profiles", "Budget")
    Container = apps.get_model("profiles", "ProfileContainer")
    Usage = apps.get_model("profiles", "CampaignProfileUsage")
    Firing = apps.get_model("profiles", "BudgetAlertFiring")
    audit = {"created_by_id": staff.pk, "updated_by_id": staff.pk}
    profile = Profile.objects.create(account_id="old", name="Runners", interests=["running"], **audit)
    Profile.objects.filter(pk=profile.pk).update(name="Weekend runners")  # version 2 by the 0003 trigger
    retired = Profile.objects.create(account_id="old", name="Retired", **audit)
    Profile.objects.filter(pk=retired.pk).update(deleted_at="2025-01-01T00:00:00Z")
    guidelines = Guidelines.objects.create(account_id="old", brand_name="Old brand", **audit)
    budget = OldBudget.objects.create(
        account_id="old", name="Old budget", amount=Decimal("100.00"), amount_spent=Decimal("60.00"), **audit
    )
    container = Container.objects.create(
        account_id="old",
        name="Old container",
        customer_profile_id=profile.pk,
        brand_guidelines_id=guidelines.pk,
        budget_id=budget.pk,
        **audit,
    )
    usage = Usage.objects.create(
        account_id="old", campaign_id="old-campaign", usage_type="CONTAINER", container_id=container.pk, **audit
    )
    Firing.objects.create(
        budget_id=budget.pk, threshold=Decimal("50"), amount_spent=Decimal("60.00"), percentage_spent=Decimal("60")
    )
    versions_before = sql("SELECT * FROM profile_version_history ORDER BY profile_type, profile_id, version")
    assert len(versions_before) == 7  # 2 + 2 for the profiles, 1 each for guidelines, budget and container

    migrate("latest")

    # Every row and every version is still there, unchanged.
    assert sql("SELECT * FROM profile_version_history ORDER BY profile_type, profile_id, version") == versions_before
    moved = TargetCustomerProfile.objects.get(pk=profile.pk)
    assert (moved.name, moved.version, moved.interests, moved.created_by) == ("Weekend runners", 2, ["running"], staff)
    assert TargetCustomerProfile.all_objects.get(pk=retired.pk).is_deleted
    moved_budget = Budget.objects.get(pk=budget.pk)
    assert (moved_budget.amount_remaining, moved_budget.percentage_spent) == (Decimal("40.00"), Decimal("60.00"))
    moved_container = ProfileContainer.objects.get(pk=container.pk)
    assert moved_container.is_complete and moved_container.version == 1
    assert CampaignProfileUsage.objects.get(pk=usage.pk).container == moved_container
    assert BudgetAlertFiring.objects.filter(budget=moved_budget).count() == 1
    assert [v.version for v in ProfileVersion.objects.filter(profile_id=profile.pk)] == [2, 1]

    assert_declared_rules_are_installed()
    # The rules hold for the rows that were there before ...
    sql("UPDATE target_customer_profiles SET description = 'Saturday mornings' WHERE id = %s", [profile.pk])
    assert [row[:2] for row in history("target_customer_profiles", profile.pk)] == [
        (1, "Runners"),
        (2, "Weekend runners"),
        (3, "Weekend runners"),
    ]
    refused(
        "UPDATE budgets SET deleted_at = now() WHERE id = %s", [budget.pk], match="budgets_in_use"
    )  # a live container uses it
    refused("DELETE FROM brand_guidelines WHERE id = %s", [guidelines.pk], match="foreign key")
    refused(
        "UPDATE customer_profile_containers SET deleted_at = now() WHERE id = %s",
        [container.pk],
        match="customer_profile_containers_in_use",
    )
    sql("DELETE FROM customer_profile_containers WHERE id = %s", [container.pk])
    assert not CampaignProfileUsage.objects.filter(pk=usage.pk).exists()  # CASCADE
    sql("DELETE FROM budgets WHERE id = %s", [budget.pk])
    assert not BudgetAlertFiring.objects.filter(budget_id=budget.pk).exists()  # CASCADE
    # ... and for new ones.
    assert_rules_hold(account_id="after-move")
