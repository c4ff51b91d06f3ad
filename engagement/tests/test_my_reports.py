"""My reports: the page and ``GET /api/v1/me/reports/`` — every report of the member, never anyone else's."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement import selectors
from engagement.bigfive.inventory import ITEMS
from engagement.models import QuizResult
from engagement.tests.helpers import answers, random_answers, submit
from focusedroom.context import RequestContext

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-42"


def take(member, **fields):
    fields.setdefault("answers", random_answers(member.pk))
    return submit(context=RequestContext.system(source="page", actor=member), **fields)


def token_client(member) -> APIClient:
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"email": member.email, "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_my_reports_page_lists_every_report_with_a_trend_chart_per_domain(client):
    member = CustomerFactory(password=PASSWORD)
    take(member, answers=answers(2), sex="F", age=30)
    take(member, answers=answers(4), sex="F", age=30)
    client.force_login(member)
    account = client.get("/account/").content.decode()
    assert 'href="/account/reports/"' in account  # linked from the account page
    html = client.get(reverse("my-reports")).content.decode()
    assert "Report 1" in html and "Report 2" in html
    assert html.count('class="fr-trend"') == 5  # one SVG chart per domain
    assert html.count('class="fr-trend-point') == 10  # two reports, five domains
    assert "women aged 21 to 40" in html
    assert "<script" not in html.split("<main")[1].split("</main>")[0]  # the charts need no script


def test_my_reports_page_needs_a_member(client):
    assert client.get(reverse("my-reports")).status_code == 302  # to the log-in page
    client.force_login(StaffFactory())
    assert client.get(reverse("my-reports")).status_code == 404


def test_trend_marks_only_changes_beyond_measurement_error():
    member = CustomerFactory()

    def keyed_answers(value):
        return {item.id: value if item.keyed == "+" else 6 - value for item in ITEMS}

    take(member, answers=keyed_answers(2))
    take(member, answers=keyed_answers(4))  # a very large change: beyond error in every domain
    take(member, answers=keyed_answers(4))  # the same answers again: no change at all
    data = selectors.bigfive_reports_of_member(user=member)
    assert [r["report_id"] for r in data["reports"]] == [3, 2, 1]
    for series in data["trend"]:
        assert [p["reliable"] for p in series["points"]] == [False, True, False]


def test_api_lists_the_members_own_reports_only(api_client):
    alice = CustomerFactory(email="alice@example.com", password=PASSWORD)
    bob = CustomerFactory(email="bob@example.com", password=PASSWORD)
    a1 = take(alice, sex="F", age=30)
    a2 = take(alice, sex="F", age=30)
    b1 = take(bob)
    submit(email="stranger@example.com")  # someone else's result, and anonymous ones
    submit()

    body = token_client(alice).get("/api/v1/me/reports/").json()
    assert [r["id"] for r in body["results"]] == [a2.public_id, a1.public_id]
    latest = body["results"][0]
    assert latest["report_id"] == 2 and latest["previous_report_id"] == 1
    assert set(latest["percentiles"]) == {"O", "C", "E", "A", "N"}
    assert set(latest["changes"]) == {"O", "C", "E", "A", "N"}
    assert set(latest["changes"]["O"]) == {"points", "reliable", "direction"}
    assert latest["norm_group"]["id"] == "F_21_40" and latest["url"].endswith(f"/big-five/results/{a2.public_id}/")
    assert body["results"][1]["changes"] == {} and body["results"][1]["previous_report_id"] is None

    mine = token_client(bob).get("/api/v1/me/reports/").json()["results"]
    assert [r["id"] for r in mine] == [b1.public_id]
    assert api_client.get("/api/v1/me/reports/").status_code in (401, 403)


def test_api_reports_for_staff_are_empty(api_client):
    api_client.force_authenticate(StaffFactory())
    assert api_client.get("/api/v1/me/reports/").json()["results"] == []


def test_api_pages_keep_the_change_since_the_report_before_and_a_constant_query_count(
    member_client, member, django_assert_max_num_queries
):
    for _ in range(5):
        take(member)
    first_page = member_client.get("/api/v1/me/reports/?page_size=2").json()
    assert [r["report_id"] for r in first_page["results"]] == [5, 4]
    second_page = member_client.get(first_page["next"]).json()
    assert [r["report_id"] for r in second_page["results"]] == [3, 2]
    assert second_page["results"][1]["previous_report_id"] == 1 and second_page["results"][1]["changes"]
    # The user throttle's counter costs 1 query; the reports 1, the report before a page 1 more.
    with django_assert_max_num_queries(3):
        member_client.get("/api/v1/me/reports/")
    for _ in range(10):
        take(member)
    with django_assert_max_num_queries(3):
        assert len(member_client.get("/api/v1/me/reports/").json()["results"]) == 15


def test_schema_documents_my_reports_and_compare_links(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    schema = api_client.get(reverse("api-schema")).content.decode()
    for path in (
        "/api/v1/me/reports/",
        "/api/v1/me/compare-links/",
        "/api/v1/me/compare-links/join/",
        "/api/v1/me/compare-links/{public_id}/",
        "/api/v1/me/compare-links/{public_id}/revoke/",
    ):
        assert path in schema
    assert "MyReport" in schema and "reliable" in schema
    assert QuizResult.objects.count() == 0
