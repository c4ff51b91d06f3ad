"""Seed 003's types and names (0005 ``TEXT[]`` arrays, 0006 ``created_by``/``updated_by``) on a
database that has rows: every value, version and search result is kept, and the way back works."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import StaffFactory
from profiles.models import BrandGuidelines, Budget, ProfileVersion, TargetCustomerProfile
from profiles.tests.test_migrations import back_to_latest, migrate, sql  # noqa: F401 — the fixture is used

pytestmark = pytest.mark.django_db(transaction=True)

ARRAY_TYPES = (
    "SELECT table_name || '.' || column_name, udt_name FROM information_schema.columns "
    "WHERE column_name IN ('interests', 'brand_values', 'campaign_ids') ORDER BY 1"
)


def test_text_arrays_and_seed_audit_names_keep_every_row(back_to_latest):  # noqa: F811
    staff = StaffFactory()
    apps = migrate("0004_database_rules_declared")
    assert sql(ARRAY_TYPES) == [
        ("brand_guidelines.brand_values", "_varchar"),
        ("budgets.campaign_ids", "_varchar"),
        ("target_customer_profiles.interests", "_varchar"),
    ]
    Profile = apps.get_model("profiles", "TargetCustomerProfile")
    Guidelines = apps.get_model("profiles", "BrandGuidelines")
    OldBudget = apps.get_model("profiles", "Budget")
    audit = {"created_by_id": staff.pk, "updated_by_id": staff.pk}
    profile = Profile.objects.create(
        account_id="old", name="Runners", interests=["running", "trail ultras", "ÉTÉ"], **audit
    )
    Profile.objects.filter(pk=profile.pk).update(description="Saturday mornings")  # version 2
    empty = Profile.objects.create(account_id="old", name="No interests", **audit)
    guidelines = Guidelines.objects.create(
        account_id="old", brand_name="Old brand", brand_values=["honesty", "craft"], **audit
    )
    budget = OldBudget.objects.create(
        account_id="old", name="Q1", amount=Decimal("100.00"), campaign_ids=["c-1", "c-2"], **audit
    )
    history_before = sql("SELECT * FROM profile_version_history ORDER BY profile_type, profile_id, version")
    search_before = sql("SELECT id, search_vector::text FROM target_customer_profiles ORDER BY id")

    migrate("latest")

    assert sql(ARRAY_TYPES) == [
        ("brand_guidelines.brand_values", "_text"),
        ("budgets.campaign_ids", "_text"),
        ("target_customer_profiles.interests", "_text"),
    ]
    moved = TargetCustomerProfile.objects.get(pk=profile.pk)
    assert (moved.interests, moved.version, moved.created_by, moved.updated_by) == (
        ["running", "trail ultras", "ÉTÉ"],
        2,
        staff,
        staff,
    )
    assert TargetCustomerProfile.objects.get(pk=empty.pk).interests == []
    assert BrandGuidelines.objects.get(pk=guidelines.pk).brand_values == ["honesty", "craft"]
    assert Budget.objects.get(pk=budget.pk).campaign_ids == ["c-1", "c-2"]
    # Versions untouched; the rebuilt search columns hold what they held.
    assert sql("SELECT * FROM profile_version_history ORDER BY profile_type, profile_id, version") == history_before
    assert sql("SELECT id, search_vector::text FROM target_customer_profiles ORDER BY id") == search_before
    assert TargetCustomerProfile.objects.filter(search_vector="trail").get() == moved
    # The seed's own array test, and the seed's audit column names.
    assert sql("SELECT id FROM target_customer_profiles WHERE interests && ARRAY['running']") == [(profile.pk,)]
    assert sql("SELECT created_by, updated_by FROM budgets WHERE id = %s", [budget.pk]) == [(staff.pk, staff.pk)]
    # The triggers follow the renamed columns: a change is a new version authored by its updater.
    sql(
        "UPDATE target_customer_profiles SET name = 'Road runners', updated_by = %s WHERE id = %s",
        [staff.pk, profile.pk],
    )
    latest = ProfileVersion.objects.filter(profile_id=profile.pk).first()
    assert (latest.version, latest.created_by) == (3, staff)

    # And back: the arrays become varchar[] again with their values.
    migrate("0004_database_rules_declared")
    assert {row[1] for row in sql(ARRAY_TYPES)} == {"_varchar"}
    assert sql("SELECT interests, created_by_id FROM target_customer_profiles WHERE id = %s", [profile.pk]) == [
        (["running", "trail ultras", "ÉTÉ"], staff.pk)
    ]
