"""No input makes a 500 and no field is silently dropped: each request that used to fail or lose
data answers a 4xx that says what is wrong (one test per case)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import DEFAULT_BRAND_SLUG, CareerStage, User
from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.tests.helpers import answers
from profiles.models import Budget, ProfileContainer
from profiles.tests.factories import make_budget, make_guidelines, make_profile

pytestmark = pytest.mark.django_db


def staff_client(*perms: str) -> APIClient:
    user = StaffFactory()
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    client = APIClient()
    client.force_authenticate(user)
    return client


def superuser_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser(email="root@focusedroom.test", password="x-Root-2026!"))
    return client


def member_client(member=None) -> APIClient:
    client = APIClient()
    client.force_authenticate(member or CustomerFactory())
    return client


def error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()["error"]


def post_json(client, url: str, body: str, method: str = "post"):
    """A raw JSON body (so ``\\u0000`` reaches the server as JSON writes it)."""
    return getattr(client, method)(url, data=body, content_type="application/json")


# ------------------------------------------------------- NUL bytes, anywhere they come in


@pytest.mark.parametrize(
    "path",
    [
        "/big-five/results/%00/",
        "/r/%00/",
        "/api/v1/assessments/big-five/%00/",
        "/api/v1/experiments/%00/",
        "/api/v1/accounts/%00/summary/",
        "/api/v1/accounts/%00/profile-status/",
        "/api/v1/brands/%00/",
    ],
)
def test_a_nul_byte_in_a_path_is_404(client, path):
    response = superuser_client().get(path) if path.startswith("/api/") else client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json()["error"]["code"] == "not_found"


def test_a_nul_byte_in_a_query_parameter_is_400_naming_it(client):
    member = CustomerFactory(password="correct-horse-42")
    body = error(member_client(member).get("/api/v1/me/custom-fields/?brand=%00"), 400)
    assert list(body["fields"]) == ["brand"] and "cannot be stored" in body["fields"]["brand"][0]
    client.force_login(member)
    page = client.get("/account/?brand=%00")
    assert page.status_code == 400 and b"brand" in page.content


def test_a_nul_byte_in_a_custom_field_value_is_400_naming_the_field():
    member = CustomerFactory()
    response = post_json(member_client(member), "/api/v1/me/custom-fields/", '{"nickname": "Al\\u0000ice"}', "put")
    assert error(response, 400)["fields"] == {
        "nickname": ["Contains a character that cannot be stored (NUL or an unpaired surrogate)."]
    }


def test_a_nul_byte_in_a_form_field_is_400(client):
    response = client.post("/accounts/login/", {"username": "a\x00@example.com", "password": "x"})
    assert response.status_code == 400 and b"username" in response.content


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        (
            "post",
            "/api/v1/customer-profiles/",
            '{"account_id": "a", "name": "n", "metadata": {"notes": "x\\u0000"}}',
            "metadata.notes",
        ),
        ("post", "/api/v1/experiments/any/exposures/", '{"metadata": {"k": ["ok", "\\u0000"]}}', "metadata.k[1]"),
        ("patch", f"/api/v1/brands/{DEFAULT_BRAND_SLUG}/", '{"settings": {"\\u0000": 1}}', "settings.\x00"),
        (
            "post",
            "/api/v1/events/",
            '[{"event_type": "ok"}, {"event_type": "x", "page_url": "\\ud800"}]',
            "[1].page_url",
        ),
    ],
)
def test_unstorable_text_anywhere_in_a_json_body_is_400_with_its_path(method, url, body, field):
    response = post_json(superuser_client(), url, body, method)
    assert error(response, 400)["fields"] == {
        field: ["Contains a character that cannot be stored (NUL or an unpaired surrogate)."]
    }


def test_a_body_larger_than_the_limit_is_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_json(APIClient(), "/api/v1/auth/token/", json.dumps({"email": "a" * 2000, "password": "x"}))
    assert error(response, 413)["code"] == "too_large"


# ------------------------------------------------------------------ dates and numbers


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/assessments/results/"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-01-01T00:00:00+23:00", "UTC offset"),
        ("2026-01-01T00:00:00+99:00", "valid date/time"),
        ("0001-01-01T00:00:00+05:00", "years 1 and 9999"),
    ],
)
def test_date_filters_out_of_the_databases_range_are_400(url, value, message):
    response = superuser_client().get(url, {"created_before": value})
    body = error(response, 400)
    assert list(body["fields"]) == ["created_before"] and message in body["fields"]["created_before"][0]


@pytest.mark.parametrize(
    ("created_at", "message"),
    [
        ("2026-02-30T10:00:00Z", "Not a real date"),
        ("2026-01-01T10:00:00+99:00", "UTC offset"),
        ("2026-01-01T10:00:00+16:00", "UTC offset"),
    ],
)
def test_an_impossible_event_time_is_400(created_at, message):
    client = member_client()
    response = client.post("/api/v1/events/", {"event_type": "page_viewed", "created_at": created_at}, format="json")
    fields = error(response, 400)["fields"]
    assert any(key.endswith("created_at") and message in " ".join(msgs) for key, msgs in fields.items()), fields


def test_a_conversion_time_out_of_range_is_400():
    response = APIClient().post(
        "/api/v1/conversions/", {"conversion_type": "signup", "occurred_at": "0001-01-01T00:00:00Z"}, format="json"
    )
    assert "occurred_at" in error(response, 400)["fields"]


def test_a_non_numeric_redemption_id_is_404():
    client = staff_client("rewards.reverse_redemption")
    assert (
        error(client.post("/api/v1/redemptions/abc/reverse/", {"reason": "x"}, format="json"), 404)["code"]
        == "not_found"
    )


def test_a_spend_that_would_overflow_the_column_is_400_with_the_limit():
    budget = make_budget()
    client = staff_client("profiles.change_budget", "profiles.view_budget")
    url = f"/api/v1/budgets/{budget.pk}/spend/"
    assert client.post(url, {"add": "9999999999999"}, format="json").status_code == 200
    body = error(client.post(url, {"add": "1"}, format="json"), 400)
    assert body["fields"] == {
        "amount_spent": ["Ensure this value is between -9,999,999,999,999.99 and 9,999,999,999,999.99."]
    }
    assert Budget.objects.get(pk=budget.pk).amount_spent == Decimal("9999999999999.00")


def test_an_integer_beyond_the_column_is_400():
    response = superuser_client().post(
        "/api/v1/experiments/", {"name": "Too big", "target_sample_size": 2**40}, format="json"
    )
    assert "target_sample_size" in error(response, 400)["fields"]


# -------------------------------------------------------------- strict input, aliases


def test_seed_column_names_are_accepted_as_aliases():
    profile, guidelines, budget = make_profile(), make_guidelines(), make_budget()
    client = staff_client("profiles.add_profilecontainer", "profiles.view_profilecontainer")
    response = client.post(
        "/api/v1/profile-containers/",
        {
            "account_id": "acct-1",
            "name": "From the seed's columns",
            "customer_profile_id": str(profile.pk),
            "brand_guidelines_id": str(guidelines.pk),
            "budget_id": str(budget.pk),
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    container = ProfileContainer.objects.get(pk=response.json()["id"])
    assert (container.customer_profile, container.brand_guidelines, container.budget) == (profile, guidelines, budget)
    both = client.post(
        "/api/v1/profile-containers/",
        {"account_id": "acct-1", "name": "Both", "budget": str(budget.pk), "budget_id": str(budget.pk)},
        format="json",
    )
    assert "budget_id" in error(both, 400)["fields"]


@pytest.mark.parametrize(
    ("method", "url", "body", "field", "suggestion"),
    [
        (
            "post",
            "/api/v1/profile-containers/",
            {"account_id": "a", "name": "n", "customer_profile_idd": None},
            "customer_profile_idd",
            "customer_profile",
        ),
        ("patch", "/api/v1/me/", {"marketing_optin": False}, "marketing_optin", "marketing_opt_in"),
        (
            "patch",
            f"/api/v1/brands/{DEFAULT_BRAND_SLUG}/",
            {"customer_io_apikey": "k"},
            "customer_io_apikey",
            "customer_io_api_key",
        ),
        ("post", "/api/v1/assessments/big-five/", {"answers": answers(), "emial": "ann@example.com"}, "emial", "email"),
        ("post", "/api/v1/redemptions/", {"reward_item": 1, "amount": 5}, "amount", None),
    ],
)
def test_unknown_fields_are_refused_by_name_with_a_suggestion(method, url, body, field, suggestion):
    client = member_client() if url.startswith(("/api/v1/me/", "/api/v1/redemptions/")) else superuser_client()
    response = getattr(client, method)(url, body, format="json")
    fields = error(response, 400)["fields"]
    expected = f"Unknown field. Did you mean {suggestion}?" if suggestion else "Unknown field."
    assert fields[field] == [expected]


def test_marketing_consent_is_not_left_unchanged_by_a_typo():
    member = CustomerFactory(marketing_opt_in=True)
    assert member_client(member).patch("/api/v1/me/", {"marketing_optin": False}, format="json").status_code == 400
    member.refresh_from_db()
    assert member.marketing_opt_in is True


def test_a_test_with_a_mistyped_email_is_not_stored_anonymously():
    from engagement.models import QuizResult

    response = APIClient().post(
        "/api/v1/assessments/big-five/", {"answers": answers(), "emial": "ann@example.com"}, format="json"
    )
    assert response.status_code == 400 and not QuizResult.objects.exists()


def test_read_only_fields_are_refused_not_ignored():
    response = superuser_client().patch(
        f"/api/v1/brands/{DEFAULT_BRAND_SLUG}/", {"has_customer_io_credentials": True}, format="json"
    )
    assert error(response, 400)["fields"] == {
        "has_customer_io_credentials": ["This field is read-only: it cannot be set here."]
    }


def test_the_default_brand_keeps_its_slug_and_stays_active():
    client = superuser_client()
    url = f"/api/v1/brands/{DEFAULT_BRAND_SLUG}/"
    assert "slug" in error(client.patch(url, {"slug": "renamed"}, format="json"), 400)["fields"]
    assert "is_active" in error(client.patch(url, {"is_active": False}, format="json"), 400)["fields"]


def test_wrong_credentials_answer_invalid_credentials(api_client):
    CustomerFactory(email="ann@example.com", password="correct-horse-42")
    response = api_client.post("/api/v1/auth/token/", {"email": "ann@example.com", "password": "wrong"}, format="json")
    assert error(response, 400)["code"] == "invalid_credentials"


# ------------------------------------------------------------------------ career stages


@pytest.mark.parametrize("label", ["Mid Career", "mid career", "MID-CAREER", "mid_career"])
def test_career_stages_are_accepted_as_the_seed_writes_them(label):
    member = CustomerFactory()
    response = member_client(member).patch("/api/v1/me/", {"career_stage": label}, format="json")
    assert response.status_code == 200 and response.json()["career_stage"] == CareerStage.MID_CAREER
    assert accounts_services.career_stage_value(label) == "mid_career"


def test_career_stage_labels_work_in_the_test_the_filters_and_the_customer_view():
    from django.db import connection

    response = APIClient().post(
        "/api/v1/assessments/big-five/",
        {"answers": answers(), "email": "early@example.com", "career_stage": "Early Career"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    person = User.objects.get(email="early@example.com")
    assert person.career_stage == "early_career"
    client = superuser_client()
    found = client.get("/api/v1/customers/", {"career_stage": "early career"}).json()["results"]
    assert [row["email"] for row in found] == ["early@example.com"]
    results = client.get("/api/v1/assessments/results/", {"career_stage": "EARLY CAREER"}).json()["results"]
    assert len(results) == 1
    assert error(client.get("/api/v1/customers/", {"career_stage": "Astronaut"}), 400)["fields"]["career_stage"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT career_stage FROM customer WHERE email_id = %s", ["early@example.com"])
        assert cursor.fetchone() == ("early_career",)


def test_an_unknown_career_stage_is_refused():
    response = member_client().patch("/api/v1/me/", {"career_stage": "Astronaut"}, format="json")
    assert "career_stage" in error(response, 400)["fields"]


@pytest.mark.parametrize("user", ["AAA", 2**70, True])
def test_an_event_naming_a_person_with_the_wrong_type_is_400(user):
    staff = User.objects.create_superuser(email="events@focusedroom.test", password="x-Events-2026!")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {accounts_services.api_token_create(user=staff)[1]}")
    response = client.post("/api/v1/events/", {"event_type": "a", "user": user, "product": "x"}, format="json")
    fields = error(response, 400)["fields"]
    assert "0.user" in fields and "0.product" in fields
