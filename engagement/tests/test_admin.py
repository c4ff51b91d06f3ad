"""Operator console: customers (tests count, results inline, CSV export) and read-only results."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import CustomerFactory
from engagement.models import QuizResult
from engagement.tests.helpers import random_answers, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged(client, admin_user):
    client.force_login(admin_user)
    return client


def _queries(client, url):
    client.get(url)  # warm caches (session, permissions)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_customer_changelist_shows_tests_with_a_constant_query_count(admin_client_logged):
    url = "/admin/accounts/customer/"
    submit(email="one@example.com")
    few, _ = _queries(admin_client_logged, url)
    for i in range(8):
        CustomerFactory(email=f"c{i}@example.com")
        submit(email=f"c{i}@example.com", answers=random_answers(i))
        submit(email=f"c{i}@example.com", answers=random_answers(i + 50))
    many, response = _queries(admin_client_logged, url)
    assert few == many
    html = response.content.decode()
    assert "column-tests" in html and '<td class="field-tests">2</td>' in html


def test_customer_change_page_has_the_results_inline(admin_client_logged):
    result = submit(email="inline@example.com")
    response = admin_client_logged.get(f"/admin/accounts/customer/{result.customer_id}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Test results" in html and f"/big-five/results/{result.public_id}/" in html


def test_csv_export_action(admin_client_logged):
    submit(email="csv@example.com", name="=HYPERLINK(evil)")
    customer = QuizResult.objects.get().customer
    response = admin_client_logged.post(
        "/admin/accounts/customer/", {"action": "export_csv", "_selected_action": [customer.pk]}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("customer_id,email_id,name,age")
    assert "csv@example.com" in lines[1] and "'=HYPERLINK(evil)" in lines[1] and lines[1].endswith(",1")


def test_quiz_result_admin_is_read_only_and_readable(admin_client_logged):
    result = submit(email="ro@example.com")
    count, response = _queries(admin_client_logged, "/admin/engagement/quizresult/")
    for i in range(6):
        submit(email=f"ro{i}@example.com", answers=random_answers(i))
    count_more, _ = _queries(admin_client_logged, "/admin/engagement/quizresult/")
    assert count == count_more
    detail = admin_client_logged.get(f"/admin/engagement/quizresult/{result.pk}/change/").content.decode()
    assert "Norm group" in detail and "Anxiety" in detail and "Open the report" in detail
    assert 'name="_save"' not in detail
    assert admin_client_logged.get("/admin/engagement/quizresult/add/").status_code == 403


def test_blog_engagement_admin_hides_the_identifier(admin_client_logged, api_client):
    api_client.post("/api/v1/blog-engagements/", {"post_slug": "p1", "engagement_type": "like"}, format="json")
    html = admin_client_logged.get("/admin/engagement/blogengagement/").content.decode()
    assert "p1" in html
