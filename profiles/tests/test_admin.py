"""Operator console: changelists within a query budget, saving through services, actions, history."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from profiles import services
from profiles.models import BudgetAlertFiring, ProfileContainer, TargetCustomerProfile
from profiles.tests.factories import DEMOGRAPHICS, make_budget, make_container, make_guidelines, make_profile

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("console@focusedroom.local", "pw-console-42")
    client.force_login(admin)
    client.admin = admin
    return client


def change_url(record) -> str:
    return reverse(f"admin:profiles_{record._meta.model_name}_change", args=[record.pk])


def form_data(record, **overrides) -> dict:
    data = {
        "account_id": record.account_id,
        "name": record.name,
        "description": record.description,
        "demographics": json.dumps(record.demographics),
        "interests": ",".join(record.interests),
        "behavior": json.dumps(record.behavior),
        "persona": json.dumps(record.persona),
        "metadata": json.dumps(record.metadata),
        "is_active": "on",
        "expected_version": record.version,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("model", "make"),
    [
        ("targetcustomerprofile", lambda i: make_profile(name=f"P{i}")),
        ("brandguidelines", lambda i: make_guidelines()),
        (
            "budget",
            lambda i: services.budget_record_spend(
                budget=make_budget(alerts=[{"threshold": 10}]), add="200", actor=None
            ),
        ),
        ("profilecontainer", lambda i: make_container(account_id=f"acct-{i}")),
        (
            "campaignprofileusage",
            lambda i: services.campaign_usage_record(
                campaign_id=f"c{i}", account_id="acct-1", usage_type="CONTAINER", container=make_container(), actor=None
            ),
        ),
        ("profileversion", lambda i: make_profile()),
    ],
)
def test_changelist_query_count_does_not_grow(admin_client, django_assert_max_num_queries, model, make):
    url = reverse(f"admin:profiles_{model}_changelist")
    make(0)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    for i in range(1, 8):
        make(i)
    with django_assert_max_num_queries(len(few)):
        response = admin_client.get(url)
    assert response.status_code == 200


def test_change_form_shows_pretty_json_and_saves_a_new_version(admin_client):
    profile = make_profile()
    page = admin_client.get(change_url(profile))
    assert page.status_code == 200
    assert "&quot;ageRange&quot;: {\n" in page.content.decode()  # indented JSON
    response = admin_client.post(change_url(profile), form_data(profile, name="Renamed"))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.version, profile.updated_by) == ("Renamed", 2, admin_client.admin)


def test_invalid_json_is_shown_next_to_the_field_with_its_path(admin_client):
    profile = make_profile()
    bad = dict(DEMOGRAPHICS, ageRange={"min": 30, "max": 200})
    response = admin_client.post(change_url(profile), form_data(profile, demographics=json.dumps(bad)))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["demographics"][0].startswith("demographics.ageRange.max:")
    profile.refresh_from_db()
    assert profile.version == 1


def test_a_stale_form_is_refused(admin_client):
    profile = make_profile()
    services.record_update(record=profile, changes={"name": "Someone else"}, expected_version=1, actor=None)
    response = admin_client.post(change_url(profile), form_data(profile, name="Mine", expected_version=1))
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    profile.refresh_from_db()
    assert profile.name == "Someone else"


def test_add_goes_through_the_service(admin_client):
    url = reverse("admin:profiles_budget_add")
    response = admin_client.post(
        url,
        {
            "account_id": "acct-5",
            "name": "Console budget",
            "status": "ACTIVE",
            "budget_type": "CAMPAIGN",
            "amount": "300.00",
            "alerts": json.dumps([{"threshold": 80}]),
            "delivery_method": "STANDARD",
            "period": "MONTHLY",
            "campaign_ids": "",
            "metadata": "{}",
            "alert_firings-TOTAL_FORMS": "0",
            "alert_firings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    budget = services.Budget.objects.get(account_id="acct-5")
    assert (budget.version, budget.created_by) == (1, admin_client.admin)


def test_actions_soft_delete_restore_and_delete_for_good(admin_client):
    container = make_container()
    profile = make_profile(name="Free")
    url = reverse("admin:profiles_targetcustomerprofile_changelist")
    ids = [str(container.customer_profile_id), str(profile.pk)]
    response = admin_client.post(url, {"action": "soft_delete_selected", "_selected_action": ids}, follow=True)
    assert "was not deleted" in response.content.decode()  # the one in a container
    assert set(TargetCustomerProfile.objects.values_list("pk", flat=True)) == {container.customer_profile_id}
    admin_client.post(url + "?deleted=yes", {"action": "restore_selected", "_selected_action": [str(profile.pk)]})
    assert TargetCustomerProfile.objects.filter(pk=profile.pk).exists()
    admin_client.post(url, {"action": "soft_delete_selected", "_selected_action": [str(profile.pk)]})
    admin_client.post(url + "?deleted=yes", {"action": "hard_delete_selected", "_selected_action": [str(profile.pk)]})
    assert not TargetCustomerProfile.all_objects.filter(pk=profile.pk).exists()
    deleted_list = admin_client.get(url + "?deleted=yes")
    assert deleted_list.status_code == 200


def test_version_history_page_and_revert(admin_client):
    profile = make_profile()
    services.record_update(record=profile, changes={"name": "Second"}, expected_version=1, actor=None)
    url = reverse("admin:profiles_targetcustomerprofile_versions", args=[profile.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Revert to version 1" in body and "Millennial Tech Enthusiasts" in body
    response = admin_client.post(url, {"to_version": 1, "expected_version": 2})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.version) == ("Millennial Tech Enthusiasts", 3)
    stale = admin_client.post(url, {"to_version": 2, "expected_version": 2}, follow=True)
    assert "Not reverted" in stale.content.decode()


def test_budget_bar_alerts_and_container_completeness(admin_client):
    budget = make_budget(amount=Decimal("100.00"), alerts=[{"threshold": 50}])
    services.budget_record_spend(budget=budget, add="75", actor=None)
    assert BudgetAlertFiring.objects.count() == 1
    listing = admin_client.get(reverse("admin:profiles_budget_changelist")).content.decode()
    assert '<meter min="0" max="100"' in listing and "75.00%" in listing and "50% (" in listing
    detail = admin_client.get(change_url(budget)).content.decode()
    assert "expected" in detail and "spent 75.00" in detail
    make_container(complete=False, name="Half")
    containers = admin_client.get(reverse("admin:profiles_profilecontainer_changelist")).content.decode()
    assert "customer_profile, brand_guidelines, budget" in containers
    assert ProfileContainer.objects.count() == 1


def test_account_and_industry_filters_list_the_indexed_values(admin_client):
    make_guidelines(industry="Retail", account_id="acct-2")
    make_guidelines(industry="Education")
    url = reverse("admin:profiles_brandguidelines_changelist")
    page = admin_client.get(url)
    choices = {f.title: [c["display"] for c in f.choices(page.context["cl"])] for f in page.context["cl"].filter_specs}
    assert {"acct-1", "acct-2"} <= set(choices["account"]) and {"Education", "Retail"} <= set(choices["industry"])
    filtered = admin_client.get(url + "?account_id=acct-2&industry=Retail")
    assert [str(r) for r in filtered.context["cl"].result_list] == ["FocusedRoom"]
    assert admin_client.get(url + "?account_id=acct-1&industry=Retail").context["cl"].result_count == 0


def test_making_a_container_default_in_the_console_undefaults_the_previous_one(admin_client):
    first = make_container(complete=False, name="First", is_default=True)
    second = make_container(complete=False, name="Second")
    data = {
        "account_id": second.account_id,
        "name": second.name,
        "description": "",
        "status": "ACTIVE",
        "is_default": "on",
        "metadata": "{}",
        "expected_version": second.version,
    }
    response = admin_client.post(change_url(second), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_default, first.updated_by) == (False, admin_client.admin)
    assert (second.is_default, second.version, second.updated_by) == (True, 2, admin_client.admin)


def test_the_services_rules_refuse_a_console_add_next_to_the_field(admin_client):
    url = reverse("admin:profiles_targetcustomerprofile_add")
    response = admin_client.post(
        url,
        {
            "account_id": "acct/1",
            "name": "Slash",
            "description": "x" * 10_001,
            "demographics": "{}",
            "behavior": "{}",
            "persona": "{}",
            "metadata": "{}",
            "interests": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "no '/'" in errors["account_id"][0] and "10000 characters" in errors["description"][0]
    assert not TargetCustomerProfile.all_objects.exists()


def test_campaign_usage_pages_are_read_only_but_usages_can_be_ended(admin_client):
    usage, _ = services.campaign_usage_record(
        campaign_id="spring", account_id="acct-1", usage_type="CONTAINER", container=make_container(), actor=None
    )
    url = reverse("admin:profiles_campaignprofileusage_change", args=[usage.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert admin_client.post(url, {"campaign_id": "changed"}).status_code == 403
    changelist = reverse("admin:profiles_campaignprofileusage_changelist")
    admin_client.post(changelist, {"action": "deactivate_selected", "_selected_action": [str(usage.pk)]})
    usage.refresh_from_db()
    assert (usage.campaign_id, usage.is_active, usage.updated_by) == ("spring", False, admin_client.admin)
