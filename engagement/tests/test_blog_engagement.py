"""Blog engagement: hashed visitor id, one vote per visitor, repeat -> 200, summary, widget."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from engagement.models import BlogEngagement
from engagement.services import blog_visitor_identifier
from engagement.tests.helpers import fake_request
from focusedroom.context import RequestContext

pytestmark = pytest.mark.django_db

URL = "/api/v1/blog-engagements/"
UA = "Mozilla/5.0 (Macintosh) Test"


def post(client, payload, ip="198.51.100.4", ua=UA):
    return client.post(URL, payload, format="json", REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)


def test_like_then_repeat_returns_the_existing_record(api_client):
    first = post(api_client, {"post_slug": "introverts-at-work", "engagement_type": "like"})
    again = post(api_client, {"post_slug": "introverts-at-work", "engagement_type": "like"})
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert BlogEngagement.objects.count() == 1
    assert "user_identifier" not in first.json()


def test_identifier_is_a_keyed_hash_never_the_raw_values(api_client):
    post(api_client, {"post_slug": "p1", "engagement_type": "helpful_yes"})
    record = BlogEngagement.objects.get()
    assert len(record.user_identifier) == 64 and "198.51.100.4" not in record.user_identifier
    assert record.user_identifier == blog_visitor_identifier(
        RequestContext.from_request(fake_request(ip="198.51.100.4", ua=UA))
    )
    assert record.user_identifier != blog_visitor_identifier(
        RequestContext.from_request(fake_request(ip="198.51.100.5", ua=UA))
    )


def test_another_visitor_or_type_counts_separately(api_client):
    assert post(api_client, {"post_slug": "p1", "engagement_type": "like"}).status_code == 201
    assert post(api_client, {"post_slug": "p1", "engagement_type": "like"}, ip="198.51.100.9").status_code == 201
    assert post(api_client, {"post_slug": "p1", "engagement_type": "helpful_yes"}).status_code == 201
    assert post(api_client, {"post_slug": "p2", "engagement_type": "like"}).status_code == 201
    assert BlogEngagement.objects.count() == 4


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"post_slug": "p1", "engagement_type": "love"}, "engagement_type"),
        ({"post_slug": "not a slug!", "engagement_type": "like"}, "post_slug"),
        ({"engagement_type": "like"}, "post_slug"),
        ({"post_slug": "p1", "engagement_type": "like", "feedback_text": "great"}, "feedback_text"),
        ({"post_slug": "p1", "engagement_type": "helpful_no", "feedback_text": "x" * 1001}, "feedback_text"),
    ],
)
def test_invalid_engagements_are_400(api_client, payload, field):
    response = post(api_client, payload)
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    assert not BlogEngagement.objects.exists()


def test_helpful_no_with_feedback(api_client):
    response = post(api_client, {"post_slug": "p1", "engagement_type": "helpful_no", "feedback_text": " Too short "})
    assert response.status_code == 201 and response.json()["feedback_text"] == "Too short"


def test_database_enforces_uniqueness_and_feedback_rule():
    BlogEngagement.objects.create(post_slug="p", engagement_type="like", user_identifier="abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        BlogEngagement.objects.create(post_slug="p", engagement_type="like", user_identifier="abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        BlogEngagement.objects.create(
            post_slug="p", engagement_type="helpful_yes", user_identifier="z", feedback_text="x"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        BlogEngagement.objects.create(post_slug="p", engagement_type="meh", user_identifier="y")


def test_summary_counts_in_one_query(api_client):
    post(api_client, {"post_slug": "p1", "engagement_type": "like"})
    post(api_client, {"post_slug": "p1", "engagement_type": "like"}, ip="203.0.113.1")
    post(api_client, {"post_slug": "p1", "engagement_type": "helpful_no"}, ip="203.0.113.1")
    with CaptureQueriesContext(connection) as ctx:
        response = api_client.get(
            "/api/v1/blog-engagements/summary/?post_slug=p1", REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT=UA
        )
    assert len([q for q in ctx.captured_queries if "blog_engagement" in q["sql"]]) == 1  # (throttling uses the cache)
    body = response.json()
    assert body["counts"] == {"like": 2, "helpful_yes": 0, "helpful_no": 1} and body["total"] == 3
    assert body["mine"] == ["like"]
    assert api_client.get("/api/v1/blog-engagements/summary/").status_code == 400


def test_demo_post_page_has_the_widget_and_works_without_js(client):
    page = client.get("/blog/introverts-at-work/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-blog-widget" in html and "blog-widget.js" in html and "csrftoken" in page.cookies
    response = client.post("/blog/introverts-at-work/engage/", {"engagement_type": "like", "feedback_text": "ignored"})
    assert response.status_code == 302
    assert BlogEngagement.objects.get().feedback_text == ""
    client.post("/blog/introverts-at-work/engage/", {"engagement_type": "like"})
    assert BlogEngagement.objects.count() == 1
    assert client.post("/blog/introverts-at-work/engage/", {"engagement_type": "x"}).status_code == 400
    assert client.get("/blog/no-such-post/").status_code == 404
    assert client.get("/blog/").status_code == 200
