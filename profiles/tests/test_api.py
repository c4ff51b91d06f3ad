"""Staff API: CRUD, filters, search, optimistic locking, restore, versions, usage, accounts."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from profiles import services
from profiles.models import ProfileContainer, TargetCustomerProfile
from profiles.tests.factories import DEMOGRAPHICS, make_budget, make_container, make_guidelines, make_profile

pytestmark = pytest.mark.django_db

ALL_PERMS = [
    f"profiles.{action}_{model}"
    for model in ("targetcustomerprofile", "brandguidelines", "budget", "profilecontainer", "campaignprofileusage")
    for action in ("view", "add", "change", "delete")
]


@pytest.fixture
def client(staff_client):
    return staff_client(*ALL_PERMS)


def error(response) -> dict:
    return response.json()["error"]


# ----------------------------------------------------------------------------- access


def test_members_and_staff_without_permission_are_refused(member_client, staff_client, api_client):
    assert api_client.get("/api/v1/customer-profiles/").status_code in (401, 403)
    assert member_client.get("/api/v1/customer-profiles/").status_code == 403
    viewer = staff_client("profiles.view_targetcustomerprofile")
    assert viewer.get("/api/v1/customer-profiles/").status_code == 200
    assert viewer.post("/api/v1/customer-profiles/", {"account_id": "a", "name": "x"}).status_code == 403
    profile = make_profile()
    assert viewer.post(f"/api/v1/customer-profiles/{profile.pk}/restore/").status_code == 403
    assert viewer.get(f"/api/v1/customer-profiles/{profile.pk}/versions/").status_code == 200
    assert viewer.get("/api/v1/accounts/acct-1/summary/").status_code == 403
    assert member_client.get("/api/v1/accounts/acct-1/profile-status/").status_code == 403


# ------------------------------------------------------------------------------- CRUD


def test_create_read_update_with_versions(client):
    body = {
        "account_id": "acct-1",
        "name": "Millennial Tech Enthusiasts",
        "demographics": DEMOGRAPHICS,
        "interests": ["technology"],
        "metadata": {"tags": ["launch"], "source": "manual"},
    }
    created = client.post("/api/v1/customer-profiles/", body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["version"] == 1 and created["ETag"] == '"1"'
    assert data["created_by"] == data["updated_by"] is not None
    url = f"/api/v1/customer-profiles/{data['id']}/"
    assert client.get(url).json()["demographics"] == DEMOGRAPHICS

    updated = client.patch(url, {"name": "Runners", "version": 1})
    assert updated.status_code == 200 and updated.json()["version"] == 2 and updated["ETag"] == '"2"'
    via_header = client.patch(url, {"description": "Weekend"}, HTTP_IF_MATCH='"2"')
    assert via_header.status_code == 200 and via_header.json()["version"] == 3

    stale = client.patch(url, {"name": "Old view"}, HTTP_IF_MATCH='W/"2"')
    assert stale.status_code == 409
    assert error(stale)["current_version"] == 3 and error(stale)["code"] == "conflict"

    missing = client.patch(url, {"name": "No version"})
    assert missing.status_code == 400 and "version" in error(missing)["fields"]
    disagree = client.patch(url, {"name": "x", "version": 3}, HTTP_IF_MATCH='"2"')
    assert disagree.status_code == 400
    moved = client.patch(url, {"account_id": "other", "version": 3})
    assert moved.status_code == 400 and "account_id" in error(moved)["fields"]

    versions = client.get(url + "versions/").json()["results"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert versions[2]["data"]["name"] == "Millennial Tech Enthusiasts"
    reverted = client.post(url + "revert/", {"to_version": 1, "version": 3})
    assert reverted.status_code == 200
    assert (reverted.json()["name"], reverted.json()["version"]) == ("Millennial Tech Enthusiasts", 4)


def test_json_schema_errors_are_400_with_the_path(client):
    response = client.post(
        "/api/v1/customer-profiles/",
        {"account_id": "a", "name": "x", "demographics": {"ageRange": {"min": "twenty"}}},
    )
    assert response.status_code == 400
    assert error(response)["fields"]["demographics"][0].startswith("demographics.ageRange.min:")
    response = client.post(
        "/api/v1/budgets/", {"account_id": "a", "name": "b", "amount": "10", "alerts": [{"threshold": -5}]}
    )
    assert response.status_code == 400
    assert error(response)["fields"]["alerts"][0].startswith("alerts[0].threshold:")
    response = client.post("/api/v1/brand-guidelines/", {"account_id": "a", "brand_name": "b", "detail_level": "full"})
    assert response.status_code == 400 and "full_style_guide" in error(response)["fields"]
    response = client.post("/api/v1/budgets/", {"account_id": "a", "name": "b", "amount": "-1"})
    assert response.status_code == 400 and "amount" in error(response)["fields"]
    assert client.post("/api/v1/customer-profiles/", {"name": "x"}).status_code == 400  # no account
    assert client.get("/api/v1/customer-profiles/not-a-uuid/").status_code == 404


def test_soft_delete_restore_and_permanent_delete(client, staff_client):
    profile = make_profile()
    url = f"/api/v1/customer-profiles/{profile.pk}/"
    assert client.delete(url, HTTP_IF_MATCH='"5"').status_code == 409
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/customer-profiles/").json()["count"] == 0
    assert client.get("/api/v1/customer-profiles/?deleted=true").json()["count"] == 1
    restored = client.post(url + "restore/")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None and restored.json()["version"] == 3
    assert client.delete(url + "?permanent=true").status_code == 409  # live rows are not deleted for good
    client.delete(url)
    without_delete_perm = staff_client("profiles.view_targetcustomerprofile", "profiles.change_targetcustomerprofile")
    assert without_delete_perm.delete(url + "?permanent=true").status_code == 403
    assert client.delete(url + "?permanent=true").status_code == 204
    assert not TargetCustomerProfile.all_objects.filter(pk=profile.pk).exists()


def test_deleting_a_referenced_record_is_a_clear_409(client):
    container = make_container()
    response = client.delete(f"/api/v1/customer-profiles/{container.customer_profile_id}/")
    assert response.status_code == 409 and "used by profile container" in error(response)["message"]
    # Soft-deleted container still references it: deleting for good is RESTRICTed.
    client.delete(f"/api/v1/profile-containers/{container.pk}/")
    client.delete(f"/api/v1/customer-profiles/{container.customer_profile_id}/")
    response = client.delete(f"/api/v1/customer-profiles/{container.customer_profile_id}/?permanent=true")
    assert response.status_code == 409 and error(response)["code"] == "protected"


# ---------------------------------------------------------------- filters and search


def test_search_and_json_filters(client):
    runners = make_profile(
        name="Weekend runners",
        interests=["running", "coffee"],
        demographics={"gender": "female", "ageRange": {"min": 30, "max": 45}, "location": {"cities": ["Lisbon"]}},
    )
    gamers = make_profile(
        name="Gamers",
        description="Night owls",
        interests=["gaming"],
        demographics={"gender": "male", "ageRange": {"min": 16, "max": 24}},
    )
    make_profile(name="Other account runners", account_id="acct-2")

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/customer-profiles/?account_id=acct-1&{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids("search=runner") == [str(runners.pk)]
    assert client.get("/api/v1/customer-profiles/?search=runner").json()["count"] == 2
    assert ids("search=lisbon") == [str(runners.pk)]
    assert ids("search=owl") == [str(gamers.pk)]
    assert ids("gender=female") == [str(runners.pk)]
    assert set(ids("age_overlap=20,30")) == {str(runners.pk), str(gamers.pk)}
    assert ids("age_overlap=40,") == [str(runners.pk)]
    assert ids("age_within=10,30") == [str(gamers.pk)]
    assert ids("demographics_has_key=location") == [str(runners.pk)]
    contains = json.dumps({"ageRange": {"min": 16}})
    assert ids(f"demographics_contains={contains}") == [str(gamers.pk)]
    assert ids("interests=coffee,gaming&ordering=name") == [str(gamers.pk), str(runners.pk)]
    assert error(client.get("/api/v1/customer-profiles/?demographics_contains={bad"))["status"] == 400
    assert client.get("/api/v1/customer-profiles/?age_overlap=50,20").status_code == 400
    assert client.get("/api/v1/customer-profiles/?age_within=20").status_code == 400


def test_other_filters(client):
    full = make_guidelines(
        industry="Retail",
        detail_level="full",
        full_style_guide={"voiceGuidelines": {"brandVoice": "professional"}},
    )
    make_guidelines(industry="Education")
    response = client.get(
        '/api/v1/brand-guidelines/?full_style_guide_contains={"voiceGuidelines":{"brandVoice":"professional"}}'
    )
    assert [r["id"] for r in response.json()["results"]] == [str(full.pk)]
    assert client.get("/api/v1/brand-guidelines/?industry=retail").json()["count"] == 1
    fast = make_budget(delivery_method="ACCELERATED", campaign_ids=["camp-1"])
    make_budget(status="PAUSED")
    assert [r["id"] for r in client.get("/api/v1/budgets/?delivery_method=ACCELERATED").json()["results"]] == [
        str(fast.pk)
    ]
    assert client.get("/api/v1/budgets/?campaign_id=camp-1").json()["count"] == 1
    assert client.get("/api/v1/budgets/?status=PAUSED").json()["count"] == 1
    assert client.get("/api/v1/budgets/?ordering=-amount").status_code == 200
    make_container(is_default=True)
    make_container(complete=False)
    assert client.get("/api/v1/profile-containers/?is_default=true").json()["count"] == 1
    assert client.get("/api/v1/profile-containers/?is_complete=false").json()["count"] == 1


# ------------------------------------------------------------------ budgets and usage


def test_budget_spend_endpoint_fires_alerts_and_shows_pacing(client):
    budget = make_budget(amount=Decimal("200.00"), alerts=[{"threshold": 50}])
    url = f"/api/v1/budgets/{budget.pk}/"
    response = client.post(url + "spend/", {"add": "120.00"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["alerts_fired"] == ["50.00"]
    assert body["budget"]["amount_remaining"] == "80.00" and body["budget"]["percentage_spent"] == "60.00"
    assert [a["threshold"] for a in body["budget"]["alerts_fired"]] == ["50.00"]
    assert body["budget"]["version"] == 2 and response["ETag"] == '"2"'
    detail = client.get(url).json()
    assert [a["threshold"] for a in detail["alerts_fired"]] == ["50.00"]
    assert set(detail["pacing"]) >= {"expected_spend", "actual_spend", "status", "period_start"}
    assert client.post(url + "spend/", {"add": "1", "amount_spent": "1"}).status_code == 400
    assert client.post(url + "spend/", {"amount_spent": "5", "version": 1}).status_code == 409
    # amount_spent is not writable through PATCH: refused, not silently ignored
    response = client.patch(url, {"amount_spent": "0", "version": 2})
    assert response.status_code == 400 and "amount_spent" in response.json()["error"]["fields"]
    assert client.get(url).json()["amount_spent"] == "120.00"


def test_campaign_usage_endpoints(client):
    container = make_container()
    response = client.post(
        "/api/v1/campaign-usages/",
        {"campaign_id": "spring", "account_id": "acct-1", "usage_type": "CONTAINER", "container": str(container.pk)},
    )
    assert response.status_code == 201, response.json()
    usage_id = response.json()["id"]
    replaced = client.post(
        "/api/v1/campaign-usages/",
        {
            "campaign_id": "spring",
            "account_id": "acct-1",
            "usage_type": "HYBRID",
            "container": str(container.pk),
            "budget": str(container.budget_id),
        },
    )
    assert replaced.status_code == 200 and replaced.json()["id"] == usage_id
    assert replaced.json()["usage_type"] == "HYBRID"
    bad = client.post(
        "/api/v1/campaign-usages/", {"campaign_id": "x", "account_id": "acct-1", "usage_type": "INDIVIDUAL"}
    )
    assert bad.status_code == 400 and "non_field_errors" in error(bad)["fields"]
    unknown = client.post(
        "/api/v1/campaign-usages/",
        {
            "campaign_id": "x",
            "account_id": "acct-1",
            "usage_type": "CONTAINER",
            "container": "00000000-0000-0000-0000-000000000000",
        },
    )
    assert unknown.status_code == 400 and "container" in error(unknown)["fields"]
    assert client.get("/api/v1/campaign-usages/?campaign_id=spring&is_active=true").json()["count"] == 1
    detail = client.get(f"/api/v1/campaign-usages/{usage_id}/")
    assert detail.status_code == 200 and detail.json()["budget"] == str(container.budget_id)
    assert client.delete(f"/api/v1/campaign-usages/{usage_id}/").status_code == 204
    assert client.get("/api/v1/campaign-usages/?is_active=true").json()["count"] == 0


def test_container_default_switch_through_the_api(client):
    first = make_container(complete=False, is_default=True)
    second = make_container(complete=False)
    response = client.patch(f"/api/v1/profile-containers/{second.pk}/", {"is_default": True, "version": 1})
    assert response.status_code == 200 and response.json()["is_default"] is True
    first.refresh_from_db()
    assert first.is_default is False and first.version == 2


def test_account_endpoints(client):
    assert client.get("/api/v1/accounts/brand-new/profile-status/").json()["is_first_time_user"] is True
    make_container(account_id="acct-7")
    status = client.get("/api/v1/accounts/acct-7/profile-status/").json()
    assert status["is_first_time_user"] is False
    assert status["profile_counts"] == {"customer_profiles_count": 1, "brand_guidelines_count": 1, "budgets_count": 1}
    summary = client.get("/api/v1/accounts/acct-7/summary/").json()
    assert summary["total_containers"] == 1 and summary["total_active_budget"] == "1000.00"


# ----------------------------------------------------------------------- query budgets


def test_container_detail_embeds_records_in_a_fixed_number_of_queries(client):
    container = make_container()
    url = f"/api/v1/profile-containers/{container.pk}/"
    client.get(url)  # the first request loads the staff member's permissions
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    body = response.json()
    assert body["customer_profile"]["id"] == str(container.customer_profile_id)
    assert body["brand_guidelines"]["brand_name"] == "FocusedRoom"
    assert body["budget"]["amount"] == "1000.00"
    assert body["is_complete"] is True and body["missing_profiles"] == []
    container_queries = [q for q in queries.captured_queries if "customer_profile_containers" in q["sql"]]
    assert len(container_queries) == 1  # one JOIN for the container and the three records
    own = [
        q["sql"]
        for q in queries.captured_queries
        if "focusedroom_counter" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]
    assert len(own) == 1, own  # (permissions are cached on the user; the throttle counter is not ours)


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/api/v1/customer-profiles/", lambda i: make_profile(name=f"P{i}")),
        ("/api/v1/brand-guidelines/", lambda i: make_guidelines()),
        ("/api/v1/budgets/", lambda i: make_budget()),
        ("/api/v1/profile-containers/", lambda i: make_container()),
        (
            "/api/v1/campaign-usages/",
            lambda i: services.campaign_usage_record(
                campaign_id=f"c{i}", account_id="acct-1", usage_type="CONTAINER", container=make_container(), actor=None
            ),
        ),
    ],
)
def test_list_query_count_does_not_grow_with_rows(client, django_assert_max_num_queries, url, make):
    make(0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(1, 8):
        make(i)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert response.json()["count"] == 8


def test_openapi_schema_documents_the_endpoints(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/customer-profiles/{id}/restore/",
        "/api/v1/budgets/{id}/spend/",
        "/api/v1/accounts/{account_id}/summary/",
        "/api/v1/profile-containers/{id}/versions/",
    ):
        assert path in paths, sorted(p for p in paths if "profile" in p or "budget" in p)
    assert ProfileContainer.objects.count() == 0


def test_container_create_with_references_and_their_rules(client):
    profile, guidelines, budget = make_profile(), make_guidelines(), make_budget()
    foreign = make_budget(account_id="acct-2")
    body = {"account_id": "acct-1", "name": "Launch", "customer_profile": str(profile.pk)}
    partial = client.post("/api/v1/profile-containers/", body)
    assert partial.status_code == 201, partial.json()
    assert partial.json()["missing_profiles"] == ["brand_guidelines", "budget"]
    url = f"/api/v1/profile-containers/{partial.json()['id']}/"
    complete = client.patch(url, {"brand_guidelines": str(guidelines.pk), "budget": str(budget.pk), "version": 1})
    assert complete.status_code == 200 and complete.json()["is_complete"] is True
    assert complete.json()["budget"]["name"] == "Spring launch"  # embedded
    wrong = client.patch(url, {"budget": str(foreign.pk), "version": 2})
    assert wrong.status_code == 400 and error(wrong)["fields"]["budget"] == ["This record belongs to another account."]
    cleared = client.patch(url, {"budget": None, "version": 2})
    assert cleared.json()["missing_profiles"] == ["budget"] and cleared.json()["version"] == 3


# ------------------------------------------------------------ validation by the services


@pytest.mark.parametrize(
    ("url", "body", "field", "message"),
    [
        ("/api/v1/budgets/", {"type": "OTHER"}, "type", "is not a valid choice"),
        ("/api/v1/budgets/", {"period": "HOURLY"}, "period", "is not a valid choice"),
        ("/api/v1/budgets/", {"amount": "1.001"}, "amount", "no more than 2 decimal places"),
        ("/api/v1/budgets/", {"amount": "12345678901234567"}, "amount", "no more than 15 digits"),
        ("/api/v1/budgets/", {"campaign_ids": ["c"] * 201}, "campaign_ids", "no more than 200 elements"),
        ("/api/v1/customer-profiles/", {"name": "x" * 256}, "name", "at most 255 characters"),
        ("/api/v1/customer-profiles/", {"name": ""}, "name", "cannot be blank"),
        ("/api/v1/customer-profiles/", {"description": "x" * 10_001}, "description", "no more than 10000 characters"),
        ("/api/v1/customer-profiles/", {"interests": ["x" * 256]}, "interests", "at most 255 characters"),
        ("/api/v1/customer-profiles/", {"account_id": "a" * 256}, "account_id", "at most 255 characters"),
        ("/api/v1/brand-guidelines/", {"detail_level": "medium"}, "detail_level", "is not a valid choice"),
        ("/api/v1/profile-containers/", {"status": "LIVE"}, "status", "is not a valid choice"),
    ],
)
def test_field_errors_come_from_the_service_under_the_request_names(client, url, body, field, message):
    base = {
        "/api/v1/budgets/": {"account_id": "a", "name": "b", "amount": "10"},
        "/api/v1/customer-profiles/": {"account_id": "a", "name": "p"},
        "/api/v1/brand-guidelines/": {"account_id": "a", "brand_name": "b"},
        "/api/v1/profile-containers/": {"account_id": "a", "name": "c"},
    }[url]
    response = client.post(url, {**base, **body})
    assert response.status_code == 400, response.json()
    body = error(response)
    assert body["message"] == "Some fields are invalid." and list(body["fields"]) == [field]
    assert message in body["fields"][field][0], body["fields"]


def test_update_usage_spend_and_revert_input_is_checked_by_the_services(client):
    budget = make_budget()
    url = f"/api/v1/budgets/{budget.pk}/"
    bad_type = client.patch(url, {"type": "OTHER", "version": 1})
    assert bad_type.status_code == 400 and list(error(bad_type)["fields"]) == ["type"]
    assert error(client.patch(url, {"name": "x", "version": 0}))["fields"]["version"] == ["Versions start at 1."]
    spend = client.post(url + "spend/", {"amount_spent": "1.001"})
    assert spend.status_code == 400 and list(error(spend)["fields"]) == ["amount_spent"]
    revert = client.post(url + "revert/", {"to_version": 7, "version": 1})
    assert error(revert)["fields"] == {"to_version": ["Version 7 does not exist."]}
    missing = client.post("/api/v1/campaign-usages/", {"usage_type": "WHATEVER"})
    assert missing.status_code == 400
    assert set(error(missing)["fields"]) == {"account_id"}  # the account is checked first
    usage = client.post("/api/v1/campaign-usages/", {"account_id": "acct-1", "usage_type": "WHATEVER"})
    assert set(error(usage)["fields"]) == {"campaign_id", "usage_type"}
    budget.refresh_from_db()
    assert (budget.version, budget.budget_type) == (1, "CAMPAIGN")


def test_trait_ranges_through_the_api(client):
    url = "/api/v1/customer-profiles/"
    response = client.post(
        url, {"account_id": "acct-1", "name": "Curious", "openness_min": 70, "conscientiousness_max": 40}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["openness_min"], body["openness_max"], body["conscientiousness_max"]) == (70, None, 40)
    response = client.post(
        url, {"account_id": "acct-1", "name": "Odd", "openness_min": 80, "openness_max": 20}, format="json"
    )
    assert response.status_code == 400
    assert "below the lowest" in error(response)["fields"]["openness_max"][0]
    response = client.post(url, {"account_id": "acct-1", "name": "Odd", "neuroticism_min": 101}, format="json")
    assert response.status_code == 400 and "neuroticism_min" in error(response)["fields"]
    record = TargetCustomerProfile.objects.get(name="Curious")
    response = client.patch(f"{url}{record.pk}/", {"openness_min": None, "version": record.version}, format="json")
    assert response.status_code == 200 and response.json()["openness_min"] is None
