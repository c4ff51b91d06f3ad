"""The Big Five API: inventory, submit, result by public id, staff list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import CustomerFactory
from engagement.bigfive.inventory import ITEMS
from engagement.models import QuizResult
from engagement.tests.helpers import answers, random_answers, submit

pytestmark = pytest.mark.django_db

SUBMIT = "/api/v1/assessments/big-five/"


def test_inventory_lists_items_without_the_key(api_client):
    response = api_client.get("/api/v1/assessments/big-five/inventory/")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["version"], len(body["items"])) == ("ipip-neo-120", "1.0", 120)
    first = body["items"][0]
    assert first == {
        "id": "N1-1",
        "num": 1,
        "text": "Worry about things.",
        "domain": "N",
        "facet": 1,
        "facet_name": "Anxiety",
    }
    assert all("keyed" not in item for item in body["items"])


def test_submit_anonymous_returns_201_with_scores(api_client):
    response = api_client.post(SUBMIT, {"answers": random_answers(5), "sex": "F", "age": 44}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert "customer_id" not in body and "report_id" not in body and "earned_gems" not in body
    assert body["scores"]["norm_group"]["id"] == "F_41_60"
    assert set(body["scores"]["percentiles"]) == set("NEOAC")
    assert body["suggestions"] and body["insights"]["suggestions"]
    assert body["url"] == f"http://testserver/big-five/results/{body['id']}/"  # absolute, from the request
    assert {"id", "scores", "suggestions", "created_at"} <= set(body)


def test_submit_with_email_numbers_reports(api_client):
    payload = {
        "answers": answers(4),
        "email": "Api.User@Example.com",
        "name": "Api User",
        "age": 29,
        "career_stage": "early_career",
        "purpose": "Find a career that fits me",
        "opt_in": True,
    }
    first = api_client.post(SUBMIT, payload, format="json").json()
    second = api_client.post(SUBMIT, {**payload, "email": "api.user@example.com"}, format="json").json()
    user = User.objects.get(email="api.user@example.com")
    reports = QuizResult.objects.filter(customer=user).order_by("report_id")
    assert [(r.public_id, r.report_id) for r in reports] == [(first["id"], 1), (second["id"], 2)]
    # The public answer names nobody and numbers nothing; consent waits for the verified address.
    assert first.keys() == second.keys() and not {"customer_id", "report_id"} & set(first)
    assert user.channel_id == 1 and not user.marketing_opt_in


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"answers": {"N1-1": 3}}, "answers"),
        ({"answers": {**answers(), "N1-1": 9}}, "answers"),
        ({"answers": {**answers(), "nope": 2}}, "answers"),
        ({"answers": "3333"}, "answers"),
        ({"answers": answers(), "age": 5}, "age"),
        ({"answers": answers(), "age": 200}, "age"),
        ({"answers": answers(), "age": "old"}, "age"),
        ({"answers": answers(), "email": "bad@"}, "email"),
        ({"answers": answers(), "sex": "X"}, "sex"),
        ({}, "answers"),
    ],
)
def test_invalid_submissions_answer_400_with_field_errors_and_store_nothing(api_client, payload, field):
    response = api_client.post(SUBMIT, payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not QuizResult.objects.exists() and not User.objects.exists()


def test_malformed_json_is_400(api_client):
    response = api_client.post(SUBMIT, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_result_by_public_id(api_client):
    result = submit(email="read@example.com")
    response = api_client.get(f"/api/v1/assessments/big-five/{result.public_id}/")
    assert response.status_code == 200
    assert response.json()["id"] == result.public_id and "report_id" not in response.json()
    assert response.json()["url"] == f"http://testserver/big-five/results/{result.public_id}/"
    api_client.force_authenticate(result.customer)  # the owner sees its number
    own = api_client.get(f"/api/v1/assessments/big-five/{result.public_id}/", HTTP_HOST="localhost").json()
    assert own["report_id"] == 1 and own["url"] == f"http://localhost/big-five/results/{result.public_id}/"
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/assessments/big-five/does-not-exist/").status_code == 404
    assert api_client.get(f"/api/v1/assessments/big-five/{result.pk}/").status_code == 404  # not by numeric id


def test_staff_list_needs_the_view_permission(api_client, member_client, staff_client):
    submit(email="listed@example.com")
    assert api_client.get("/api/v1/assessments/results/").status_code in (401, 403)
    assert member_client.get("/api/v1/assessments/results/").status_code == 403
    assert staff_client().get("/api/v1/assessments/results/").status_code == 403
    response = staff_client("engagement.view_quizresult").get("/api/v1/assessments/results/")
    assert response.status_code == 200
    assert response.json()["results"][0]["customer_email"] == "listed@example.com"


def test_staff_list_filters(staff_client):
    client = staff_client("engagement.view_quizresult")
    early = CustomerFactory(email="early@example.com", career_stage="early_career", channel_id=2, marketing_opt_in=True)
    submit(email=early.email)
    submit(email="senior@example.com", career_stage="senior")
    submit()  # anonymous

    def emails(query):
        rows = client.get(f"/api/v1/assessments/results/?{query}").json()["results"]
        return sorted(r["customer_email"] or "anonymous" for r in rows)

    assert emails("career_stage=early_career") == ["early@example.com"]
    assert emails("channel=1") == ["senior@example.com"]
    assert emails("opt_in=true") == ["early@example.com"]
    assert emails("anonymous=true") == ["anonymous"]
    assert emails("email=EARLY@example.com") == ["early@example.com"]
    assert emails("created_after=2000-01-01T00:00:00Z") == ["anonymous", "early@example.com", "senior@example.com"]
    assert emails("created_before=2000-01-01T00:00:00Z") == []


def test_staff_list_cursor_pagination_and_query_budget(staff_client):
    client = staff_client("engagement.view_quizresult")
    for i in range(3):
        submit(email=f"page{i}@example.com", answers=random_answers(i))
    client.get("/api/v1/assessments/results/")  # warm the permission cache
    with CaptureQueriesContext(connection) as few:
        first = client.get("/api/v1/assessments/results/?page_size=2").json()
    for i in range(3, 12):
        submit(email=f"page{i}@example.com", answers=random_answers(i))
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/assessments/results/?page_size=10")
    assert len(few.captured_queries) == len(many.captured_queries) <= 10
    assert len(first["results"]) == 2 and "cursor=" in first["next"]
    second = client.get(first["next"]).json()
    assert second["results"] and second["results"][0]["id"] not in {r["id"] for r in first["results"]}


def test_api_submission_records_request_context(api_client):
    response = api_client.post(
        f"{SUBMIT}?utm_source=newsletter",
        {"answers": answers(), "utm_campaign": "spring"},
        format="json",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
    )
    result = QuizResult.objects.get(public_id=response.json()["id"])
    assert (result.utm_source, result.utm_campaign, result.device_type) == ("newsletter", "spring", "mobile")
    assert result.quiz_metadata["source"] == "api"


def test_schema_documents_the_endpoints(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    schema = api_client.get(reverse("api-schema")).content.decode()
    for path in (
        "/api/v1/assessments/big-five/",
        "/api/v1/assessments/big-five/inventory/",
        "/api/v1/blog-engagements/",
        "/api/v1/blog-engagements/summary/",
        "/api/v1/assessments/results/",
    ):
        assert path in schema
    assert len(ITEMS) == 120
