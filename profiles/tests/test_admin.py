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
from profiles.tests.factories import make_budget, make_container, make_guidelines, make_profile
from tests.console_forms import form_query

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser("console@focusedroom.local", "pw-console-42")
    client.force_login(admin)
    client.admin = admin
    return client


def change_url(record) -> str:
    return reverse(f"admin:profiles_{record._meta.model_name}_change", args=[record.pk])


def form_data(record, client, **overrides) -> dict[str, list[str]]:
    """The record's change form as the browser posts it (every structured input), with ``overrides``
    (a list for a list of boxes)."""
    html = client.get(change_url(record)).content.decode()
    data = dict(form_query(html, form_id=f"{record._meta.model_name}_form").lists())
    for name, value in overrides.items():
        data[name] = value if isinstance(value, list) else [value]
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


def test_change_form_shows_the_documents_field_by_field_and_saves_a_new_version(admin_client):
    profile = make_profile()
    page = admin_client.get(change_url(profile))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="demographics.ageRange.min" id="id_demographics_ageRange_min" value="25"' in html
    assert 'name="persona.painPoints"' in html and "lack of time\ninformation overload</textarea>" in html
    response = admin_client.post(change_url(profile), form_data(profile, admin_client, name="Renamed"))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.version, profile.updated_by) == ("Renamed", 2, admin_client.admin)
    assert profile.demographics["location"]["radius"]["latitude"] == 37.7749  # untouched documents kept


def test_saving_without_a_change_makes_no_new_version(admin_client):
    profile = make_profile()
    response = admin_client.post(change_url(profile), form_data(profile, admin_client))
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.version == 1


def test_structured_input_is_saved_as_the_document(admin_client):
    profile = make_profile()
    data = form_data(
        profile,
        admin_client,
        **{
            "demographics.ageRange.min": "30",
            "demographics.location.cities": "Lisbon\nPorto",
            "persona.motivations": "growth\nmeaning",
            "demographics__json": '{"householdSize": 2}',
            "behavior.devicePreferences": ["mobile", "tablet"],
        },
    )
    response = admin_client.post(change_url(profile), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile.refresh_from_db()
    assert profile.demographics["ageRange"] == {"min": 30, "max": 40}
    assert profile.demographics["location"]["cities"] == ["Lisbon", "Porto"]
    assert profile.demographics["householdSize"] == 2
    assert profile.behavior["devicePreferences"] == ["mobile", "tablet"]
    assert profile.persona["motivations"] == ["growth", "meaning"]
    assert profile.version == 2


def test_a_document_refused_by_its_json_schema_is_shown_next_to_it_with_its_path(admin_client):
    profile = make_profile()
    data = form_data(profile, admin_client, **{"demographics.ageRange.max": "200"})
    response = admin_client.post(change_url(profile), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["demographics"][0].startswith("demographics.ageRange.max: 200 is greater than the maximum of 120")
    assert 'name="demographics.ageRange.max" id="id_demographics_ageRange_max" value="200"' in response.content.decode()
    profile.refresh_from_db()
    assert profile.version == 1


def test_a_stale_form_is_refused(admin_client):
    profile = make_profile()
    data = form_data(profile, admin_client, name="Mine")
    services.record_update(record=profile, changes={"name": "Someone else"}, expected_version=1, actor=None)
    response = admin_client.post(change_url(profile), data)
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
    assert "(missing: customer profile, brand guidelines, budget)" in containers
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


def autocomplete(client, field: str, **params):
    query = {"app_label": "profiles", "model_name": "profilecontainer", "field_name": field, "term": "", **params}
    response = client.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 200
    return [row["text"] for row in response.json()["results"]]


def test_container_autocompletes_offer_only_live_records_of_the_account(admin_client):
    make_guidelines(account_id="acct-1", brand_name="Mine")
    make_guidelines(account_id="acct-2", brand_name="Theirs")
    gone = make_guidelines(account_id="acct-1", brand_name="Deleted")
    services.record_soft_delete(record=gone, actor=None)
    assert autocomplete(admin_client, "brand_guidelines", account_id="acct-1") == ["Mine"]
    assert autocomplete(admin_client, "brand_guidelines", account_id="acct-2") == ["Theirs"]
    assert autocomplete(admin_client, "brand_guidelines") == []  # no account, nothing to offer
    make_profile(account_id="acct-2", name="Runners")
    assert autocomplete(admin_client, "customer_profile", account_id="acct-1", term="Run") == []
    assert autocomplete(admin_client, "customer_profile", account_id="acct-2", term="Run") == ["Runners"]
    # The records' own lists still show every account and the deleted ones on request.
    listing = admin_client.get(reverse("admin:profiles_brandguidelines_changelist") + "?deleted=all")
    assert listing.context["cl"].result_count == 3


def test_the_container_form_asks_the_autocompletes_for_its_account(admin_client):
    html = admin_client.get(reverse("admin:profiles_profilecontainer_add")).content.decode()
    for field in ("customer_profile", "brand_guidelines", "budget"):
        assert f'name="{field}"' in html
    assert html.count('class="fr-account-autocomplete"') == 3
    assert html.count('data-account-field="id_account_id"') == 3
    assert "profiles/account-autocomplete.js" in html
    assert html.index("admin/js/jquery.init.js") < html.index("profiles/account-autocomplete.js")


def test_a_reference_from_another_account_is_refused_next_to_it(admin_client):
    container = make_container(complete=False, name="Mine", account_id="acct-1")
    other = make_guidelines(account_id="acct-2")
    data = form_data(container, admin_client, brand_guidelines=str(other.pk))
    response = admin_client.post(change_url(container), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["brand_guidelines"] == ["This record belongs to another account."]


@pytest.mark.parametrize("model", ["targetcustomerprofile", "brandguidelines", "budget", "profilecontainer"])
def test_add_forms_show_nothing_the_database_fills(admin_client, model):
    html = admin_client.get(reverse(f"admin:profiles_{model}_add")).content.decode()
    assert "object at 0x" not in html and "DatabaseDefault" not in html
    for audit in ("Created at", "Updated at", "Version history", "Deleted at"):
        assert audit not in html


SETUP = {
    "account_id": "new-account",
    "customer_profile__name": "Weekend runners",
    "customer_profile__description": "Amateur runners",
    "customer_profile__interests": "running, nutrition",
    "customer_profile__demographics.ageRange.min": "25",
    "customer_profile__demographics.ageRange.max": "45",
    "customer_profile__demographics.location.countries": "pt, es",
    "customer_profile__persona.name": "Marathon Maya",
    "customer_profile__persona.motivations": "health\nachievement",
    "brand_guidelines__brand_name": "Acme Running",
    "brand_guidelines__industry": "Retail",
    "brand_guidelines__brand_values": "energy",
    "brand_guidelines__high_level_guidelines.colors.primary.0.name": "Acme Red",
    "brand_guidelines__high_level_guidelines.colors.primary.0.hex": "#D62828",
    "brand_guidelines__high_level_guidelines.typography.primaryFont": "Inter",
    "budget__name": "Spring season",
    "budget__amount": "1200.00",
    "budget__period": "MONTHLY",
    "budget__delivery_method": "STANDARD",
    "container__name": "Default container",
}
SETUP_URL = "/admin/profiles/profilecontainer/setup/"


def test_a_first_time_account_is_set_up_in_one_guided_form(admin_client):
    page = admin_client.get(SETUP_URL + "?account_id=new-account")
    assert page.status_code == 200
    html = page.content.decode()
    assert "1. Who the campaigns are for" in html and "4. The default container" in html
    assert 'name="customer_profile__demographics.ageRange.min"' in html  # structured, no JSON to type
    assert "already set up" not in html

    response = admin_client.post(SETUP_URL, SETUP)
    container = ProfileContainer.objects.get(account_id="new-account")
    assert response.status_code == 302 and response["Location"] == change_url(container)
    assert (container.name, container.is_default, container.is_primary, container.is_complete) == (
        "Default container",
        True,
        True,
        True,
    )
    profile, guidelines, budget = container.customer_profile, container.brand_guidelines, container.budget
    assert profile.demographics == {"ageRange": {"min": 25, "max": 45}, "location": {"countries": ["PT", "ES"]}}
    assert profile.persona == {"name": "Marathon Maya", "motivations": ["health", "achievement"]}
    assert profile.interests == ["running", "nutrition"] and profile.is_default
    assert guidelines.high_level_guidelines == {
        "colors": {"primary": [{"name": "Acme Red", "hex": "#D62828"}]},
        "typography": {"primaryFont": "Inter"},
    }
    assert budget.amount == Decimal("1200.00")
    assert {r.created_by for r in (container, profile, guidelines, budget)} == {admin_client.admin}
    assert "is set up" in admin_client.get(response["Location"]).content.decode()


def test_the_guided_form_says_what_is_wrong_where_and_creates_nothing(admin_client):
    data = {**SETUP, "budget__amount": "-5", "customer_profile__demographics.ageRange.max": "300"}
    response = admin_client.post(SETUP_URL, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "greater than or equal to 0" in errors["budget__amount"][0]
    assert errors["customer_profile__demographics"][0].startswith("demographics.ageRange.max: 300 is greater")
    assert not ProfileContainer.all_objects.exists() and not TargetCustomerProfile.all_objects.exists()


def test_an_account_already_set_up_is_not_offered_the_guided_form_again(admin_client):
    make_profile(account_id="old-account")
    page = admin_client.get(SETUP_URL + "?account_id=old-account").content.decode()
    assert "“old-account” is already set up: 1 target customer profile(s)" in page
    response = admin_client.post(SETUP_URL, {**SETUP, "account_id": "old-account"})
    assert response.status_code == 200
    assert "already has campaign profiles" in response.context["form"].errors["account_id"][0]
    assert not ProfileContainer.all_objects.filter(account_id="old-account").exists()


def test_the_guided_form_is_offered_on_the_lists_to_who_may_add_the_four_records(admin_client, client):
    for model in ("profilecontainer", "targetcustomerprofile"):
        html = admin_client.get(reverse(f"admin:profiles_{model}_changelist")).content.decode()
        assert f'href="{SETUP_URL}"' in html and "Set up a new account" in html
    viewer = User.objects.create_user("viewer@focusedroom.local", "pw-viewer-42", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="profiles", codename__startswith="view_")
    )
    client.force_login(viewer)
    assert (
        "Set up a new account" not in client.get(reverse("admin:profiles_profilecontainer_changelist")).content.decode()
    )
    assert client.get(SETUP_URL).status_code == 403
    assert client.post(SETUP_URL, SETUP).status_code == 403
    assert not ProfileContainer.all_objects.exists()
