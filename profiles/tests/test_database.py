"""What the database enforces on its own: raw SQL gets the same rules as the services."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import RestrictedError

from profiles.db_rules import ForeignKeyConstraint
from profiles.models import (
    Budget,
    BudgetAlertFiring,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
)
from profiles.tests.factories import make_budget, make_container, make_guidelines, make_profile

pytestmark = pytest.mark.django_db


def sql(query: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall() if cursor.description else None


def refused(query: str, params=None, *, match: str) -> None:
    """The statement fails with a database error whose message or constraint name contains ``match``."""
    with pytest.raises((IntegrityError, DatabaseError)) as info, transaction.atomic():
        sql(query, params)
    constraint = getattr(getattr(info.value.__cause__, "diag", None), "constraint_name", None) or ""
    assert match in f"{info.value} {constraint}", f"{info.value} ({constraint})"


# ------------------------------------------------------------------ CHECK constraints


@pytest.mark.parametrize(
    ("query", "constraint"),
    [
        (
            "INSERT INTO brand_guidelines (brand_name, account_id, detail_level) VALUES ('b', 'a', 'medium')",
            "brand_guidelines_detail_level_valid",
        ),
        (
            "INSERT INTO brand_guidelines (brand_name, account_id, detail_level) VALUES ('b', 'a', 'full')",
            "brand_guidelines_full_has_style_guide",
        ),
        ("INSERT INTO budgets (name, account_id, amount) VALUES ('b', 'a', -1)", "budgets_amount_non_negative"),
        (
            "INSERT INTO budgets (name, account_id, amount, amount_spent) VALUES ('b', 'a', 10, -0.01)",
            "budgets_amount_spent_non_negative",
        ),
        (
            "INSERT INTO budgets (name, account_id, amount, delivery_method) VALUES ('b', 'a', 1, 'SLOW')",
            "budgets_delivery_method_valid",
        ),
        (
            "INSERT INTO budgets (name, account_id, amount, period) VALUES ('b', 'a', 1, 'HOURLY')",
            "budgets_period_valid",
        ),
        ("INSERT INTO budgets (name, account_id, amount, status) VALUES ('b', 'a', 1, 'GONE')", "budgets_status_valid"),
        ("INSERT INTO budgets (name, account_id, amount, type) VALUES ('b', 'a', 1, 'OTHER')", "budgets_type_valid"),
        (
            "INSERT INTO budgets (name, account_id, amount, start_date, end_date) "
            "VALUES ('b', 'a', 1, '2025-02-01', '2025-01-01')",
            "budgets_end_after_start",
        ),
        (
            "INSERT INTO budgets (name, account_id, amount, period) VALUES ('b', 'a', 1, 'LIFETIME')",
            "budgets_lifetime_has_dates",
        ),
        (
            "INSERT INTO customer_profile_containers (name, account_id, status) VALUES ('c', 'a', 'LIVE')",
            "customer_profile_containers_status_valid",
        ),
        (
            "INSERT INTO campaign_profile_usage (campaign_id, account_id, usage_type) VALUES ('c', 'a', 'OTHER')",
            "campaign_profile_usage_type_valid",
        ),
        (
            "INSERT INTO target_customer_profiles (name, account_id, version) VALUES ('p', 'a', 2)",
            "version_starts_at_1",
        ),
    ],
)
def test_raw_insert_refused_by_check(query, constraint):
    refused(query, match=constraint)


def test_usage_type_rules_are_check_constraints():
    container = make_container()
    profile = container.customer_profile
    insert = (
        "INSERT INTO campaign_profile_usage (campaign_id, account_id, usage_type, container_id, customer_profile_id) "
        "VALUES (%s, 'acct-1', %s, %s, %s)"
    )
    # CONTAINER: a container and no individual ids.
    refused(insert, ["c1", "CONTAINER", None, None], match="campaign_profile_usage_container_rule")
    refused(insert, ["c1", "CONTAINER", container.pk, profile.pk], match="campaign_profile_usage_container_rule")
    # INDIVIDUAL: no container, at least one individual id.
    refused(insert, ["c1", "INDIVIDUAL", None, None], match="campaign_profile_usage_individual_rule")
    refused(insert, ["c1", "INDIVIDUAL", container.pk, profile.pk], match="campaign_profile_usage_individual_rule")
    # HYBRID: a container and at least one override.
    refused(insert, ["c1", "HYBRID", container.pk, None], match="campaign_profile_usage_hybrid_rule")
    refused(insert, ["c1", "HYBRID", None, profile.pk], match="campaign_profile_usage_hybrid_rule")
    # The valid shapes go in.
    sql(insert, ["c1", "CONTAINER", container.pk, None])
    sql(insert, ["c2", "INDIVIDUAL", None, profile.pk])
    sql(insert, ["c3", "HYBRID", container.pk, profile.pk])
    assert sql("SELECT usage_type FROM campaign_profile_usage ORDER BY campaign_id") == [
        ("CONTAINER",),
        ("INDIVIDUAL",),
        ("HYBRID",),
    ]


def test_one_active_usage_per_campaign_is_a_partial_unique_index():
    container = make_container()
    insert = (
        "INSERT INTO campaign_profile_usage (campaign_id, account_id, usage_type, container_id, is_active) "
        "VALUES ('camp', 'acct-1', 'CONTAINER', %s, %s)"
    )
    sql(insert, [container.pk, True])
    refused(insert, [container.pk, True], match="campaign_profile_usage_one_active")
    sql(insert, [container.pk, False])  # inactive history rows are fine
    sql(insert, [container.pk, False])


def test_seed_example_5_upsert_runs_unchanged():
    container = make_container()
    query = """
        INSERT INTO campaign_profile_usage (campaign_id, container_id, account_id, usage_type, is_active)
        VALUES (%s, %s, %s, 'CONTAINER', true)
        ON CONFLICT (campaign_id) WHERE is_active = true
        DO UPDATE SET container_id = EXCLUDED.container_id, updated_at = CURRENT_TIMESTAMP
        RETURNING id
    """
    first = sql(query, ["camp", container.pk, "acct-1"])[0][0]
    second = sql(query, ["camp", container.pk, "acct-1"])[0][0]
    assert first == second
    assert sql("SELECT count(*) FROM campaign_profile_usage")[0][0] == 1


def test_one_default_container_per_account_among_live_rows():
    first = make_container(complete=False, name="A")
    second = make_container(complete=False, name="B")
    sql("UPDATE customer_profile_containers SET is_default = true WHERE id = %s", [first.pk])
    refused(
        "UPDATE customer_profile_containers SET is_default = true WHERE id = %s",
        [second.pk],
        match="customer_profile_containers_one_default_per_account",
    )
    # A soft-deleted default does not count.
    sql("UPDATE customer_profile_containers SET deleted_at = now() WHERE id = %s", [first.pk])
    sql("UPDATE customer_profile_containers SET is_default = true WHERE id = %s", [second.pk])
    # Other accounts have their own default.
    other = make_container(complete=False, account_id="acct-2")
    sql("UPDATE customer_profile_containers SET is_default = true WHERE id = %s", [other.pk])


# ------------------------------------------------------------------ generated columns


def test_budget_generated_columns_follow_a_raw_update():
    budget = make_budget(amount=Decimal("200.00"))
    assert (budget.amount_remaining, budget.percentage_spent) == (Decimal("200.00"), Decimal("0.00"))
    sql("UPDATE budgets SET amount_spent = 50 WHERE id = %s", [budget.pk])  # seed example 7, raw
    budget.refresh_from_db()
    assert budget.amount_remaining == Decimal("150.00")
    assert budget.percentage_spent == Decimal("25.00")
    sql("UPDATE budgets SET amount = 0 WHERE id = %s", [budget.pk])
    budget.refresh_from_db()
    assert budget.amount_remaining == Decimal("-50.00")
    assert budget.percentage_spent == Decimal("0.00")
    sql("UPDATE budgets SET amount = 0.01, amount_spent = 9999999999 WHERE id = %s", [budget.pk])
    budget.refresh_from_db()
    assert budget.percentage_spent == Decimal("99999.99")  # capped, never an overflow
    refused("UPDATE budgets SET amount_remaining = 5 WHERE id = %s", [budget.pk], match="generated column")


def test_container_completeness_follows_raw_updates():
    container = make_container()
    assert container.is_complete is True and container.missing_profiles == []
    sql(
        "UPDATE customer_profile_containers SET budget_id = NULL, brand_guidelines_id = NULL WHERE id = %s",
        [container.pk],
    )
    container.refresh_from_db()
    assert container.is_complete is False
    assert container.missing_profiles == ["brand_guidelines", "budget"]
    empty = make_container(complete=False)
    assert empty.missing_profiles == ["customer_profile", "brand_guidelines", "budget"]


def test_search_vector_covers_name_description_interests_and_demographics():
    profile = make_profile(
        name="Marathon planners",
        description="People who train",
        interests=["cycling"],
        demographics={"gender": "female", "location": {"cities": ["Lisbon"]}},
    )
    for term in ("marathon", "training", "cycling", "lisbon", "female"):
        found = sql(
            "SELECT id FROM target_customer_profiles WHERE search_vector @@ websearch_to_tsquery('english', %s)", [term]
        )
        assert found == [(profile.pk,)], term


# ------------------------------------------------------------- versioning and history


def test_raw_updates_are_versioned_and_kept_in_history():
    profile = make_profile()
    sql("UPDATE target_customer_profiles SET name = 'Renamed' WHERE id = %s", [profile.pk])
    sql("UPDATE target_customer_profiles SET name = 'Renamed' WHERE id = %s", [profile.pk])  # no change
    profile.refresh_from_db()
    assert profile.version == 2
    versions = list(
        ProfileVersion.objects.filter(profile_id=profile.pk).order_by("version").values_list("version", "data__name")
    )
    assert versions == [(1, "Millennial Tech Enthusiasts"), (2, "Renamed")]
    refused(
        "UPDATE target_customer_profiles SET name = 'Again', version = 5 WHERE id = %s",
        [profile.pk],
        match="version_increments_by_1",
    )
    refused(
        "UPDATE target_customer_profiles SET account_id = 'other' WHERE id = %s",
        [profile.pk],
        match="account_immutable",
    )


def test_version_history_is_append_only():
    profile = make_profile()
    with pytest.raises(Exception, match="append_only"), transaction.atomic():
        ProfileVersion.objects.filter(profile_id=profile.pk).update(data={})
    with pytest.raises(Exception, match="no_delete"), transaction.atomic():
        sql("DELETE FROM profile_version_history WHERE profile_id = %s", [profile.pk])


# -------------------------------------------------------------- references and RESTRICT


def test_delete_of_a_referenced_profile_is_restricted_in_sql_and_orm():
    container = make_container()
    profile = container.customer_profile
    refused("DELETE FROM target_customer_profiles WHERE id = %s", [profile.pk], match="foreign key")
    refused("DELETE FROM budgets WHERE id = %s", [container.budget_id], match="foreign key")
    refused("DELETE FROM brand_guidelines WHERE id = %s", [container.brand_guidelines_id], match="foreign key")
    with pytest.raises(RestrictedError):
        TargetCustomerProfile.all_objects.get(pk=profile.pk).delete()
    assert TargetCustomerProfile.all_objects.filter(pk=profile.pk).exists()


def test_foreign_keys_carry_their_database_actions():
    rows = dict(
        sql(
            """
            SELECT conrelid::regclass::text || '.' || a.attname, confdeltype
              FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND conrelid::regclass::text IN
                   ('customer_profile_containers', 'campaign_profile_usage', 'budget_alert_firings')
               AND confrelid::regclass::text <> 'accounts_user'
            """
        )
    )
    assert rows == {
        "customer_profile_containers.customer_profile_id": "r",
        "customer_profile_containers.brand_guidelines_id": "r",
        "customer_profile_containers.budget_id": "r",
        "campaign_profile_usage.container_id": "c",
        "campaign_profile_usage.customer_profile_id": "c",
        "campaign_profile_usage.brand_guidelines_id": "c",
        "campaign_profile_usage.budget_id": "c",
        "budget_alert_firings.budget_id": "c",
    }


def test_foreign_key_declarations_must_agree_with_their_fields():
    for model in (ProfileContainer, CampaignProfileUsage, BudgetAlertFiring):
        assert [e for e in model.check(databases=["default"]) if e.id == "profiles.E001"] == []

    def problems(**kwargs) -> list[str]:
        constraint = ForeignKeyConstraint(name="fk", **kwargs)
        return [e.msg for e in constraint._check(ProfileContainer, connection)]

    assert problems(field="budget", to="profiles.Budget", on_delete="RESTRICT") == []
    assert problems(field="budget", to="profiles.TargetCustomerProfile", on_delete="CASCADE") == [
        "fk: 'budget' refers to profiles.Budget, not to profiles.TargetCustomerProfile.",
        "fk: ON DELETE CASCADE does not match on_delete=RESTRICT.",
    ]
    assert problems(field="created_by", to="accounts.User", on_delete="SET NULL") == [
        "fk: 'created_by' needs db_constraint=False (this declaration is its constraint)."
    ]
    assert problems(field="name", to="profiles.Budget", on_delete="RESTRICT") == ["fk: 'name' is not a foreign key."]
    with pytest.raises(ValueError):
        ForeignKeyConstraint(name="fk", field="budget", to="profiles.Budget", on_delete="EXPLODE")


def test_raw_delete_of_an_unreferenced_soft_deleted_record_cascades_to_usage():
    profile = make_profile()
    sql(
        "INSERT INTO campaign_profile_usage (campaign_id, account_id, usage_type, customer_profile_id, is_active) "
        "VALUES ('old', 'acct-1', 'INDIVIDUAL', %s, false)",
        [profile.pk],
    )
    sql("DELETE FROM target_customer_profiles WHERE id = %s", [profile.pk])
    assert sql("SELECT count(*) FROM campaign_profile_usage")[0][0] == 0


def test_references_must_be_live_and_of_the_same_account():
    other_budget = make_budget(account_id="acct-2")
    refused(
        "INSERT INTO customer_profile_containers (name, account_id, budget_id) VALUES ('c', 'acct-1', %s)",
        [other_budget.pk],
        match="customer_profile_containers_same_account",
    )
    budget = make_budget()
    sql("UPDATE budgets SET deleted_at = now() WHERE id = %s", [budget.pk])
    refused(
        "INSERT INTO customer_profile_containers (name, account_id, budget_id) VALUES ('c', 'acct-1', %s)",
        [budget.pk],
        match="customer_profile_containers_live_references",
    )
    refused(
        "INSERT INTO campaign_profile_usage (campaign_id, account_id, usage_type, budget_id) "
        "VALUES ('c', 'acct-1', 'INDIVIDUAL', %s)",
        [budget.pk],
        match="campaign_profile_usage_live_references",
    )


def test_soft_delete_of_a_record_in_use_is_refused_in_sql():
    container = make_container()
    for table, pk in (
        ("target_customer_profiles", container.customer_profile_id),
        ("brand_guidelines", container.brand_guidelines_id),
        ("budgets", container.budget_id),
    ):
        refused(f"UPDATE {table} SET deleted_at = now() WHERE id = %s", [pk], match=f"{table}_in_use")
    sql(
        "INSERT INTO campaign_profile_usage (campaign_id, account_id, usage_type, container_id) "
        "VALUES ('camp', 'acct-1', 'CONTAINER', %s)",
        [container.pk],
    )
    refused(
        "UPDATE customer_profile_containers SET deleted_at = now() WHERE id = %s",
        [container.pk],
        match="customer_profile_containers_in_use",
    )
    # Once the container is gone (usage ended), the records can go too.
    sql("UPDATE campaign_profile_usage SET is_active = false")
    sql("UPDATE customer_profile_containers SET deleted_at = now() WHERE id = %s", [container.pk])
    sql("UPDATE budgets SET deleted_at = now() WHERE id = %s", [container.budget_id])
    # ... and a container cannot come back while its budget is deleted.
    refused(
        "UPDATE customer_profile_containers SET deleted_at = NULL WHERE id = %s",
        [container.pk],
        match="customer_profile_containers_live_references",
    )


def test_seed_sql_examples_3_6_and_10_run_against_the_tables():
    profile, guidelines, budget = make_profile(), make_guidelines(), make_budget()
    container_id = sql(
        "INSERT INTO customer_profile_containers (account_id, name, customer_profile_id, brand_guidelines_id, "
        "budget_id, is_default) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        ["acct-1", "Seed container", profile.pk, guidelines.pk, budget.pk, False],
    )[0][0]
    assert isinstance(container_id, uuid.UUID)
    assert ProfileContainer.objects.get(pk=container_id).is_complete
    counts = sql(
        "SELECT (SELECT COUNT(*) FROM target_customer_profiles WHERE account_id = %s AND deleted_at IS NULL),"
        "       (SELECT SUM(amount) FROM budgets WHERE account_id = %s AND status = 'ACTIVE' AND deleted_at IS NULL)",
        ["acct-1", "acct-1"],
    )[0]
    assert counts == (1, Decimal("1000.00"))
    assert Budget.objects.get(pk=budget.pk).version == 1
