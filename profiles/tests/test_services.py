"""Services: clear messages first (the database rules behind them are in test_database.py)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import RestrictedError
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from focusedroom.errors import Conflict, PermissionDenied
from profiles import selectors, services, signals
from profiles.models import (
    BrandGuidelines,
    Budget,
    BudgetAlertFiring,
    CampaignProfileUsage,
    ProfileContainer,
    ProfileVersion,
    TargetCustomerProfile,
)
from profiles.tests.factories import (
    FULL_GUIDE,
    make_budget,
    make_container,
    make_guidelines,
    make_profile,
)

pytestmark = pytest.mark.django_db


def field_errors(exc_info) -> dict:
    return exc_info.value.message_dict


# ------------------------------------------------------------------------ JSON Schemas


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("demographics", {"ageRange": {"min": -1, "max": 40}}, "demographics.ageRange.min"),
        ("demographics", {"ageRange": {"min": 50, "max": 40}}, "demographics.ageRange.max"),
        ("demographics", {"gender": "robot"}, "demographics.gender"),
        ("demographics", {"location": {"countries": ["US", "usa"]}}, "demographics.location.countries[1]"),
        (
            "demographics",
            {"location": {"radius": {"latitude": 95, "longitude": 0, "radius": 5}}},
            "demographics.location.radius.latitude",
        ),
        ("demographics", ["not", "an", "object"], "demographics"),
        ("behavior", {"devicePreferences": ["mobile", "fridge"]}, "behavior.devicePreferences[1]"),
        ("behavior", {"onlineActivityLevel": "frantic"}, "behavior.onlineActivityLevel"),
        ("persona", {"motivations": "efficiency"}, "persona.motivations"),
        ("metadata", {"tags": [1]}, "metadata.tags[0]"),
    ],
)
def test_profile_json_is_validated_with_the_offending_path(field, value, path):
    with pytest.raises(ValidationError) as info:
        make_profile(**{field: value})
    messages = field_errors(info)[field]
    assert any(m.startswith(f"{path}:") for m in messages), messages
    assert not TargetCustomerProfile.all_objects.exists()


def test_guidelines_and_budget_json_is_validated_with_the_offending_path():
    with pytest.raises(ValidationError) as info:
        make_guidelines(high_level_guidelines={"colors": {"primary": [{"name": "Blue", "hex": "blue"}]}})
    assert field_errors(info)["high_level_guidelines"][0].startswith("high_level_guidelines.colors.primary[0].hex:")
    with pytest.raises(ValidationError) as info:
        make_guidelines(detail_level="full", full_style_guide={"logoGuidelines": {"minimumSize": {"width": 0}}})
    assert field_errors(info)["full_style_guide"][0].startswith("full_style_guide.logoGuidelines.minimumSize.width:")
    with pytest.raises(ValidationError) as info:
        make_budget(alerts=[{"threshold": 50}, {"threshold": "80"}])
    assert field_errors(info)["alerts"][0].startswith("alerts[1].threshold:")
    with pytest.raises(ValidationError) as info:
        make_budget(alerts=[{"threshold": 50}, {"threshold": 50}])
    assert field_errors(info)["alerts"][0].startswith("alerts[1].threshold:")


def test_full_guidelines_need_a_style_guide():
    with pytest.raises(ValidationError) as info:
        make_guidelines(detail_level="full")
    assert "full_style_guide" in field_errors(info)
    guidelines = make_guidelines(detail_level="full", full_style_guide=FULL_GUIDE)
    assert guidelines.detail_level == BrandGuidelines.DetailLevel.FULL


def test_field_rules_have_messages():
    with pytest.raises(ValidationError) as info:
        make_budget(amount=Decimal("-5"), period="HOURLY")
    assert {"amount", "period"} <= set(field_errors(info))
    with pytest.raises(ValidationError) as info:
        make_budget(period="LIFETIME")
    assert "end_date" in field_errors(info)
    with pytest.raises(ValidationError) as info:
        make_budget(start_date=date(2025, 3, 1), end_date=date(2025, 2, 1))
    assert "end_date" in field_errors(info)
    with pytest.raises(ValidationError) as info:
        services.customer_profile_create(account_id=" ", data={"name": "x"}, actor=None)
    assert "account_id" in field_errors(info)
    with pytest.raises(ValidationError) as info:
        services.customer_profile_create(account_id="a", data={"name": "x", "version": 4}, actor=None)
    assert "version" in field_errors(info)


# ---------------------------------------------------------------- audit and versioning


def test_create_and_update_record_actor_version_and_history():
    alice, bob = StaffFactory(), StaffFactory()
    profile = make_profile(actor=alice)
    assert (profile.version, profile.created_by, profile.updated_by) == (1, alice, alice)
    updated = services.record_update(record=profile, changes={"name": "Runners"}, expected_version=1, actor=bob)
    assert (updated.version, updated.name, updated.created_by, updated.updated_by) == (2, "Runners", alice, bob)
    assert updated.updated_at > profile.updated_at
    same = services.record_update(record=updated, changes={"name": "Runners"}, expected_version=2, actor=alice)
    assert same.version == 2  # nothing changed, no new version
    history = list(selectors.record_versions(record=updated))
    assert [(v.version, v.created_by, v.data["name"]) for v in history] == [
        (2, bob, "Runners"),
        (1, alice, "Millennial Tech Enthusiasts"),
    ]
    assert history[1].data["demographics"]["ageRange"] == {"min": 25, "max": 40}


def test_stale_or_missing_version_is_refused():
    profile = make_profile()
    services.record_update(record=profile, changes={"name": "B"}, expected_version=1, actor=None)
    with pytest.raises(Conflict) as info:
        services.record_update(record=profile, changes={"name": "C"}, expected_version=1, actor=None)
    assert info.value.extra == {"current_version": 2}
    with pytest.raises(ValidationError) as missing:
        services.record_update(record=profile, changes={"name": "C"}, expected_version=None, actor=None)
    assert "version" in field_errors(missing)
    profile.refresh_from_db()
    assert (profile.name, profile.version) == ("B", 2)


def test_revert_is_a_new_version():
    budget = make_budget(name="One", amount=Decimal("100.00"), period="MONTHLY")
    services.record_update(
        record=budget,
        changes={"name": "Two", "amount": Decimal("250.00"), "budget_type": "ACCOUNT"},
        expected_version=1,
        actor=None,
    )
    reverted = services.record_revert(record=budget, to_version=1, expected_version=2, actor=None)
    assert (reverted.version, reverted.name, reverted.amount, reverted.budget_type) == (
        3,
        "One",
        Decimal("100.00"),
        "CAMPAIGN",
    )
    with pytest.raises(ValidationError):
        services.record_revert(record=budget, to_version=9, expected_version=3, actor=None)


def test_revert_of_a_container_restores_its_references():
    container = make_container()
    old_profile = container.customer_profile
    services.record_update(record=container, changes={"customer_profile": None}, expected_version=1, actor=None)
    container.refresh_from_db()
    assert container.missing_profiles == ["customer_profile"]
    reverted = services.record_revert(record=container, to_version=1, expected_version=2, actor=None)
    assert reverted.customer_profile == old_profile and reverted.is_complete and reverted.version == 3


# ------------------------------------------------------------------------- containers


def test_container_references_must_be_same_account_and_live():
    foreign = make_profile(account_id="acct-2")
    with pytest.raises(ValidationError) as info:
        make_container(complete=False, customer_profile=foreign)
    assert field_errors(info) == {"customer_profile": ["This record belongs to another account."]}
    with pytest.raises(ValidationError) as info:
        make_container(complete=False, budget="00000000-0000-0000-0000-000000000000")
    assert "budget" in field_errors(info)


def test_making_a_container_default_undefaults_the_previous_one():
    staff = StaffFactory()
    first = make_container(complete=False, name="First", is_default=True)
    second = make_container(complete=False, name="Second", is_default=True, actor=staff)
    first.refresh_from_db()
    assert (first.is_default, first.version, first.updated_by) == (False, 2, staff)
    assert second.is_default
    first = services.container_make_default(container=first, expected_version=2, actor=None)
    second.refresh_from_db()
    assert first.is_default and not second.is_default
    assert ProfileContainer.objects.filter(account_id="acct-1", is_default=True).count() == 1


def test_restore_of_a_replaced_default_comes_back_not_default():
    old = make_container(complete=False, is_default=True)
    services.record_soft_delete(record=old, actor=None)
    new = make_container(complete=False, is_default=True)
    restored = services.record_restore(record=old, actor=None)
    assert restored.deleted_at is None and restored.is_default is False
    assert ProfileContainer.objects.get(is_default=True) == new


# ------------------------------------------------------- soft delete, restore, purge


def test_soft_delete_hides_and_restore_brings_back():
    profile = make_profile()
    deleted = services.record_soft_delete(record=profile, actor=None)
    assert deleted.deleted_at is not None and deleted.version == 2
    assert not TargetCustomerProfile.objects.filter(pk=profile.pk).exists()
    assert TargetCustomerProfile.all_objects.filter(pk=profile.pk).exists()
    with pytest.raises(Conflict):
        services.record_update(record=profile, changes={"name": "x"}, expected_version=2, actor=None)
    restored = services.record_restore(record=profile, actor=None)
    assert restored.deleted_at is None and restored.version == 3
    assert TargetCustomerProfile.objects.filter(pk=profile.pk).exists()


def test_soft_delete_of_a_record_in_use_has_a_clear_message():
    container = make_container()
    with pytest.raises(Conflict, match="used by profile container"):
        services.record_soft_delete(record=container.customer_profile, actor=None)
    services.campaign_usage_record(
        campaign_id="c1", account_id="acct-1", usage_type="CONTAINER", container=container, actor=None
    )
    with pytest.raises(Conflict, match="used by campaign profile usage"):
        services.record_soft_delete(record=container, actor=None)


def test_hard_delete_only_of_soft_deleted_rows_by_staff_with_permission(staff_with_perms):
    allowed = staff_with_perms("profiles.delete_targetcustomerprofile")
    not_allowed = staff_with_perms("profiles.view_targetcustomerprofile")
    profile = make_profile()
    with pytest.raises(Conflict, match="Only a deleted record"):
        services.record_hard_delete(record=profile, actor=allowed)
    services.record_soft_delete(record=profile, actor=allowed)
    with pytest.raises(PermissionDenied):
        services.record_hard_delete(record=profile, actor=not_allowed)
    services.record_hard_delete(record=profile, actor=allowed)
    assert not TargetCustomerProfile.all_objects.filter(pk=profile.pk).exists()
    assert ProfileVersion.objects.filter(profile_id=profile.pk).count() == 2  # history is kept


def test_hard_delete_of_a_profile_still_in_a_deleted_container_is_restricted(staff_with_perms):
    staff = staff_with_perms("profiles.delete_targetcustomerprofile")
    container = make_container()
    services.record_soft_delete(record=container, actor=None)
    services.record_soft_delete(record=container.customer_profile, actor=None)
    with pytest.raises(RestrictedError):
        services.record_hard_delete(record=container.customer_profile, actor=staff)


# ----------------------------------------------------------------------------- budgets


def test_spend_updates_computed_columns_and_fires_each_threshold_once():
    staff = StaffFactory()
    budget = make_budget(amount=Decimal("1000.00"), alerts=[{"threshold": 50}, {"threshold": 80}, {"threshold": 100}])
    received = []

    def receiver(sender, budget, threshold, actor, **kwargs):
        received.append((threshold, actor))

    signals.budget_alert_fired.connect(receiver)
    try:
        result = services.budget_record_spend(budget=budget, add="499.99", actor=staff)
        assert result.alerts_fired == []
        result = services.budget_record_spend(budget=budget, add="300.01", actor=staff)
        assert result.alerts_fired == [Decimal("50.00"), Decimal("80.00")]
        assert (result.budget.amount_remaining, result.budget.percentage_spent) == (Decimal("200.00"), Decimal("80.00"))
        services.budget_record_spend(budget=budget, amount_spent="100", actor=staff)  # back down
        result = services.budget_record_spend(budget=budget, amount_spent="1000", actor=staff)
        assert result.alerts_fired == [Decimal("100.00")]  # 50 and 80 already fired
    finally:
        signals.budget_alert_fired.disconnect(receiver)
    assert received == [(Decimal("50.00"), staff), (Decimal("80.00"), staff), (Decimal("100.00"), staff)]
    assert list(BudgetAlertFiring.objects.values_list("threshold", flat=True)) == [
        Decimal("50.00"),
        Decimal("80.00"),
        Decimal("100.00"),
    ]


def test_lowering_the_amount_can_fire_an_alert():
    budget = make_budget(amount=Decimal("1000.00"), alerts=[{"threshold": 50}, {"threshold": 90, "enabled": False}])
    services.budget_record_spend(budget=budget, add="400", actor=None)
    updated = services.record_update(
        record=budget, changes={"amount": Decimal("500.00")}, expected_version=2, actor=None
    )
    assert updated.percentage_spent == Decimal("80.00")
    assert list(BudgetAlertFiring.objects.values_list("threshold", flat=True)) == [Decimal("50.00")]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"add": "-10"}, "add"),
        ({"amount_spent": "-1"}, "amount_spent"),
        ({"amount_spent": "1.001"}, "amount_spent"),
        ({"amount_spent": "abc"}, "amount_spent"),
        ({}, "non_field_errors"),
        ({"add": "1", "amount_spent": "1"}, "non_field_errors"),
    ],
)
def test_spend_input_is_validated(kwargs, field):
    budget = make_budget()
    with pytest.raises(ValidationError) as info:
        services.budget_record_spend(budget=budget, actor=None, **kwargs)
    assert field in field_errors(info)


def test_pacing_standard_and_accelerated():
    budget = make_budget(amount=Decimal("3000.00"), period="MONTHLY")
    services.budget_record_spend(budget=budget, amount_spent="1000", actor=None)
    budget.refresh_from_db()
    mid_april = datetime(2025, 4, 16, 0, 0, tzinfo=timezone.get_current_timezone())  # 15 of 30 days gone
    pacing = services.budget_pacing(budget=budget, now=mid_april)
    assert (pacing.period_start, pacing.period_end) == (date(2025, 4, 1), date(2025, 4, 30))
    assert pacing.expected_spend == Decimal("1500.00")
    assert pacing.status == "behind" and pacing.difference == Decimal("-500.00")
    budget.delivery_method = Budget.DeliveryMethod.ACCELERATED
    assert services.budget_pacing(budget=budget, now=mid_april).expected_spend == Decimal("3000.00")
    lifetime = make_budget(
        period="LIFETIME", start_date=date(2025, 1, 1), end_date=date(2025, 1, 10), amount=Decimal("100.00")
    )
    services.budget_record_spend(budget=lifetime, amount_spent="50", actor=None)
    lifetime.refresh_from_db()
    jan_6 = datetime(2025, 1, 6, tzinfo=timezone.get_current_timezone())
    pacing = services.budget_pacing(budget=lifetime, now=jan_6)
    assert pacing.expected_spend == Decimal("50.00") and pacing.status == "on_track"
    assert services.budget_pacing(budget=lifetime, now=datetime(2025, 2, 1, tzinfo=jan_6.tzinfo)).status == "ended"


# ---------------------------------------------------------------------- campaign usage


def test_usage_rules_have_messages():
    container = make_container()
    profile = container.customer_profile
    cases = [
        ({"usage_type": "CONTAINER"}, "container"),
        ({"usage_type": "CONTAINER", "container": container, "customer_profile": profile}, "customer_profile"),
        ({"usage_type": "INDIVIDUAL"}, "non_field_errors"),
        ({"usage_type": "INDIVIDUAL", "container": container, "customer_profile": profile}, "container"),
        ({"usage_type": "HYBRID", "container": container}, "non_field_errors"),
        ({"usage_type": "HYBRID", "customer_profile": profile}, "container"),
        ({"usage_type": "OTHER"}, "usage_type"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as info:
            services.campaign_usage_record(campaign_id="c", account_id="acct-1", actor=None, **kwargs)
        assert field in field_errors(info), kwargs
    with pytest.raises(ValidationError) as info:
        services.campaign_usage_record(
            campaign_id="c", account_id="acct-2", usage_type="CONTAINER", container=container, actor=None
        )
    assert field_errors(info)["container"] == ["This record belongs to another account."]
    assert not CampaignProfileUsage.objects.exists()


def test_recording_a_usage_replaces_the_active_one():
    staff = StaffFactory()
    container = make_container()
    other = make_container(name="Other")
    first, created = services.campaign_usage_record(
        campaign_id="spring", account_id="acct-1", usage_type="CONTAINER", container=container, actor=staff
    )
    second, replaced_created = services.campaign_usage_record(
        campaign_id="spring",
        account_id="acct-1",
        usage_type="HYBRID",
        container=other,
        budget=container.budget,
        actor=None,
    )
    assert second.pk == first.pk and created is True and replaced_created is False
    assert (second.usage_type, second.container, second.budget, second.created_by) == (
        "HYBRID",
        other,
        container.budget,
        staff,
    )
    assert CampaignProfileUsage.objects.filter(campaign_id="spring", is_active=True).count() == 1
    with pytest.raises(Conflict, match="another account"):
        services.campaign_usage_record(
            campaign_id="spring",
            account_id="acct-2",
            usage_type="INDIVIDUAL",
            customer_profile=make_profile(account_id="acct-2"),
            actor=None,
        )
    services.campaign_usage_deactivate(usage=second, actor=None)
    third, _ = services.campaign_usage_record(
        campaign_id="spring", account_id="acct-1", usage_type="CONTAINER", container=container, actor=None
    )
    assert third.pk != first.pk
    assert CampaignProfileUsage.objects.filter(campaign_id="spring").count() == 2


# ------------------------------------------------------------------------- selectors


def test_account_status_and_summary():
    status = selectors.account_profile_status(account_id="new-account")
    assert status["is_first_time_user"] is True and status["profile_counts"]["budgets_count"] == 0
    container = make_container(account_id="acct-9")
    make_budget(account_id="acct-9", amount=Decimal("50.00"), status="PAUSED")
    services.campaign_usage_record(
        campaign_id="c", account_id="acct-9", usage_type="CONTAINER", container=container, actor=None
    )
    status = selectors.account_profile_status(account_id="acct-9")
    assert status["is_first_time_user"] is False and status["has_budget"] and status["has_brand_guidelines"]
    summary = selectors.account_profile_summary(account_id="acct-9")
    assert summary == {
        "account_id": "acct-9",
        "total_profiles": 1,
        "total_guidelines": 1,
        "total_budgets": 2,
        "total_containers": 1,
        "complete_containers": 1,
        "total_active_budget": Decimal("1000.00"),
        "total_active_spent": Decimal("0.00"),
        "total_campaign_usage": 1,
    }


def test_search_and_age_queries():
    runners = make_profile(name="Weekend runners", demographics={"ageRange": {"min": 30, "max": 45}})
    make_profile(name="Students", interests=["gaming"], demographics={"ageRange": {"min": 18, "max": 24}})
    make_profile(name="Runners elsewhere", account_id="acct-2")
    assert selectors.profiles_search(account_id="acct-1", term="runner") == [runners]
    assert list(selectors.profiles_by_age_range(account_id="acct-1", min_age=25, max_age=50)) == [runners]
    assert list(TargetCustomerProfile.objects.filter(selectors.age_range_overlaps(40, 60), account_id="acct-1")) == [
        runners
    ]
    # Numeric comparison, not text ("9" > "10" as text).
    assert list(selectors.profiles_by_age_range(account_id="acct-1", min_age=9, max_age=100)).__len__() == 2


# --------------------------------------------------------------- one place for the rules


def test_the_account_of_a_record_never_moves():
    profile = make_profile()
    with pytest.raises(ValidationError) as info:
        services.record_update(record=profile, changes={"account_id": "acct-2"}, expected_version=1, actor=None)
    assert field_errors(info) == {"account_id": ["A record cannot move to another account."]}
    same = services.record_update(
        record=profile, changes={"account_id": "acct-1", "name": "Same account"}, expected_version=1, actor=None
    )
    assert (same.account_id, same.name, same.version) == ("acct-1", "Same account", 2)


def test_lengths_the_columns_do_not_bound_are_checked():
    with pytest.raises(ValidationError) as info:
        make_profile(description="x" * 10_001, interests=["i"] * 201)
    assert set(field_errors(info)) == {"description", "interests"}
    with pytest.raises(ValidationError) as info:
        make_guidelines(brand_values=["v"] * 201)
    assert field_errors(info) == {"brand_values": ["Ensure this field has no more than 200 elements."]}
    with pytest.raises(ValidationError) as info:
        services.customer_profile_create(account_id="a/b", data={"name": "x"}, actor=None)
    assert "account_id" in field_errors(info)


def test_usage_takes_records_or_their_ids():
    container = make_container()
    usage, created = services.campaign_usage_record(
        campaign_id="by-id",
        account_id="acct-1",
        usage_type="HYBRID",
        container=str(container.pk),
        budget=container.budget_id,
        actor=None,
    )
    assert created and (usage.container, usage.budget) == (container, container.budget)
    with pytest.raises(ValidationError) as info:
        services.campaign_usage_record(
            campaign_id="unknown",
            account_id="acct-1",
            usage_type="INDIVIDUAL",
            customer_profile="00000000-0000-0000-0000-000000000000",
            brand_guidelines="not-an-id",
            actor=None,
        )
    assert field_errors(info) == {
        "customer_profile": ["No target customer profile with id 00000000-0000-0000-0000-000000000000."],
        "brand_guidelines": ["No brand guidelines with id not-an-id."],
    }


def test_a_version_check_before_saving_says_what_the_update_would_say():
    profile = make_profile()
    services.record_check_version(record=profile, expected_version=1)
    services.record_update(record=profile, changes={"name": "B"}, expected_version=1, actor=None)
    with pytest.raises(Conflict, match="Someone else changed this record") as info:
        services.record_check_version(record=profile, expected_version=1)
    assert info.value.extra == {"current_version": 2}


FIRST_SETUP = {
    "customer_profile": {"name": "First audience", "demographics": {"ageRange": {"min": 20, "max": 30}}},
    "brand_guidelines": {"brand_name": "First brand"},
    "budget": {"name": "First budget", "amount": Decimal("500.00")},
    "container": {"name": "Default container"},
}


def test_first_setup_creates_the_three_parts_and_the_default_container():
    container = services.account_first_setup(account_id="fresh", **FIRST_SETUP, actor=None)
    assert (container.is_default, container.is_primary, container.is_complete, container.status) == (
        True,
        True,
        True,
        "ACTIVE",
    )
    assert container.customer_profile.is_default and container.brand_guidelines.is_default
    assert container.budget.amount == Decimal("500.00")
    status = selectors.account_profile_status(account_id="fresh")
    assert not status["is_first_time_user"]


def test_first_setup_is_all_or_nothing_with_errors_keyed_by_part():
    bad = {**FIRST_SETUP, "budget": {"name": "", "amount": Decimal("-1")}, "container": {"name": "x" * 300}}
    with pytest.raises(ValidationError) as caught:
        services.account_first_setup(account_id="fresh", **bad, actor=None)
    errors = caught.value.message_dict
    assert {"budget.name", "budget.amount", "container.name"} <= set(errors)
    assert not TargetCustomerProfile.all_objects.filter(account_id="fresh").exists()
    assert not ProfileContainer.all_objects.filter(account_id="fresh").exists()


def test_first_setup_is_refused_once_the_account_has_records():
    make_budget(account_id="used")
    with pytest.raises(Conflict) as caught:
        services.account_first_setup(account_id="used", **FIRST_SETUP, actor=None)
    assert caught.value.fields == {"account_id": [caught.value.message]}
    assert not ProfileContainer.all_objects.filter(account_id="used").exists()


def test_the_periodic_budget_check_fires_due_alerts_once_and_counts_pacing():
    budget = make_budget(amount=Decimal("1000.00"), alerts=[{"threshold": 50}, {"threshold": 80}])
    Budget.objects.filter(pk=budget.pk).update(amount_spent=Decimal("600.00"))  # spend written around the service
    make_budget(name="Paused", amount=Decimal("10.00"), status="PAUSED")
    first = services.budgets_check()
    assert (first.budgets_checked, first.alerts_fired) == (1, 1)
    assert sum(first.pacing.values()) == 1
    assert list(BudgetAlertFiring.objects.filter(budget=budget).values_list("threshold", flat=True)) == [
        Decimal("50.00")
    ]
    again = services.budgets_check()
    assert again.alerts_fired == 0
    assert BudgetAlertFiring.objects.count() == 1
