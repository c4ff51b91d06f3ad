"""Cursor pagination through rows that share their ordering value (``focusedroom.api.pagination``)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Customer
from accounts.tests.factories import CustomerFactory
from engagement.models import Event


def _walk(client, url: str, params: dict, link: str = "next") -> list[list]:
    """Every page's ids, following ``link`` from the first answer."""
    pages, response = [], client.get(url, params).json()
    while True:
        pages.append([row["id"] for row in response["results"]])
        if not response[link]:
            return pages
        response = client.get(response[link]).json()


@pytest.mark.django_db
def test_pages_through_equal_timestamps_give_every_row_once_in_order_both_ways(staff_client):
    now = timezone.now()
    person = CustomerFactory()
    # 3 instants for 40 events: long runs of equal timestamps, as a bulk import leaves them.
    Event.objects.bulk_create(
        [Event(user=person, event_type="x", created_at=now - timedelta(seconds=n % 3)) for n in range(40)]
    )
    expected = list(Event.objects.order_by("-created_at", "-id").values_list("id", flat=True))
    client = staff_client("engagement.view_event")
    forward = _walk(client, "/api/v1/events/", {"page_size": 7})
    assert [len(page) for page in forward] == [7, 7, 7, 7, 7, 5]
    assert [i for page in forward for i in page] == expected  # each once, newest first, ties by id
    # From the last page back to the first with the previous links: the same pages.
    last = client.get("/api/v1/events/", {"page_size": 7})
    for _ in range(5):
        last = client.get(last.json()["next"])
    backward = _walk(client, last.json()["previous"], {}, link="previous")
    assert backward == forward[-2::-1]


@pytest.mark.django_db
def test_an_ascending_order_and_a_deep_page_use_the_keyset_not_an_offset(staff_client):
    people = CustomerFactory.create_batch(12)
    same = timezone.now() - timedelta(days=1)
    Customer.objects.filter(pk__in=[p.pk for p in people]).update(created_at=same)
    client = staff_client("accounts.view_customer")
    pages = _walk(client, "/api/v1/customers/", {"page_size": 5, "ordering": "created_at"})
    assert [i for page in pages for i in page] == sorted(p.pk for p in people)  # oldest first, ties by id
    second = client.get("/api/v1/customers/", {"page_size": 5, "ordering": "created_at"}).json()["next"]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(second).status_code == 200
    listed = next(
        q["sql"] for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"] and "LIMIT" in q["sql"]
    )
    assert "OFFSET" not in listed and 'ROW("accounts_user"."created_at", "accounts_user"."id") > (ROW(' in listed


@pytest.mark.django_db
def test_a_cursor_not_made_here_is_a_404_not_a_500(staff_client):
    client = staff_client("engagement.view_event")
    for position in ("yesterday|1", "2026-01-01 00:00:00+00:00|x", "2026-01-01 00:00:00+00:00"):
        cursor = base64.b64encode(f"p={position}".encode()).decode()
        response = client.get("/api/v1/events/", {"cursor": cursor})
        assert response.status_code == 404, (position, response.content)
