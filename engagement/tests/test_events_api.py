"""POST/GET /api/v1/events/, pruning and the append-only guarantee."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.tests.factories import CustomerFactory
from engagement.models import Event

URL = "/api/v1/events/"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


@pytest.fixture
def trusted_client(staff_with_perms):
    client_user = staff_with_perms("engagement.add_event")
    _, raw = accounts_services.api_token_create(user=client_user, name="partner")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


class TestMembers:
    def test_one_event_is_stored_and_enriched(self, member_client, member):
        response = member_client.post(
            URL,
            {"event_type": "page_viewed", "page_url": "https://focusedroom.test/report", "metadata": {"a": 1}},
            format="json",
            HTTP_USER_AGENT=IPHONE,
        )
        assert response.status_code == 201, response.json()
        assert response.json()["created"] == 1
        event = Event.objects.get()
        assert event.user == member
        assert event.device_type == "mobile"
        assert event.user_agent == IPHONE
        assert event.ip_address == "127.0.0.1"
        assert event.metadata == {"a": 1}

    def test_a_batch_is_written_with_one_copy(self, member_client):
        batch = [{"event_type": "cta_clicked", "metadata": {"n": n}} for n in range(50)]
        with CaptureQueriesContext(connection) as queries:
            response = member_client.post(URL, batch, format="json", HTTP_USER_AGENT=DESKTOP)
        assert response.status_code == 201
        assert len(response.json()["ids"]) == 50
        writes = [q for q in queries.captured_queries if '"engagement_event"' in q["sql"] and "SELECT" not in q["sql"]]
        assert [q["sql"].split(" (")[0] for q in writes] == ['COPY "engagement_event"']
        stored = dict(Event.objects.values_list("id", "metadata"))
        assert [stored[i] for i in response.json()["ids"]] == [{"n": n} for n in range(50)]
        assert set(Event.objects.values_list("device_type", flat=True)) == {"desktop"}

    def test_one_bad_event_rejects_the_batch_and_names_its_index(self, member_client):
        batch = [{"event_type": "ok"}, {"event_type": "ok"}, {"event_type": "Not Valid!"}, {"event_type": "ok"}]
        response = member_client.post(URL, batch, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["index"] == 2
        assert "2.event_type" in error["fields"]
        assert Event.objects.count() == 0

    @pytest.mark.parametrize(
        ("event", "field"),
        [
            ({}, "0.event_type"),
            ({"event_type": "x", "surprise": 1}, "0.surprise"),
            ({"event_type": "x", "metadata": "not an object"}, "0.metadata"),
            ({"event_type": "x", "product": 999999}, "0.product"),
            ({"event_type": "x", "brand": "no-such-brand"}, "0.brand"),
            ({"event_type": "x", "created_at": "yesterday"}, "0.created_at"),
            ({"event_type": "x", "created_at": "2030-01-01T00:00:00"}, "0.created_at"),
            ({"event_type": "x", "points_awarded": 50}, "0.points_awarded"),
            ({"event_type": "x", "metadata": {"blob": "x" * 20000}}, "0.metadata"),
            ("just a string", "0"),
        ],
    )
    def test_field_errors(self, member_client, event, field):
        response = member_client.post(URL, event if isinstance(event, dict) else [event], format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert Event.objects.count() == 0

    def test_more_than_500_events_are_refused(self, member_client):
        response = member_client.post(URL, [{"event_type": "x"}] * 501, format="json")
        assert response.status_code == 400
        assert Event.objects.count() == 0

    def test_an_empty_batch_is_refused(self, member_client):
        assert member_client.post(URL, [], format="json").status_code == 400

    def test_a_member_cannot_post_for_someone_else(self, member_client, member):
        other = CustomerFactory()
        batch = [{"event_type": "x", "user": member.pk}, {"event_type": "x", "user": other.pk}]
        response = member_client.post(URL, batch, format="json")
        assert response.status_code == 403
        assert "1.user" in response.json()["error"]["fields"]
        assert Event.objects.count() == 0

    def test_a_past_client_time_is_kept(self, member_client):
        when = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
        response = member_client.post(URL, {"event_type": "x", "created_at": when.isoformat()}, format="json")
        assert response.status_code == 201
        assert Event.objects.get().created_at == when

    def test_anonymous_callers_are_refused(self, api_client):
        assert api_client.post(URL, {"event_type": "x"}, format="json").status_code in (401, 403)


class TestTrustedClients:
    def test_a_token_with_the_permission_posts_for_anyone(self, trusted_client):
        people = [CustomerFactory() for _ in range(3)]
        batch = [{"event_type": "product_viewed", "user": p.pk, "points_awarded": 5} for p in people]
        batch.append({"event_type": "landing_viewed", "anonymous_id": "visitor-1"})
        response = trusted_client.post(URL, batch, format="json")
        assert response.status_code == 201, response.json()
        assert set(Event.objects.exclude(user=None).values_list("user_id", flat=True)) == {p.pk for p in people}
        assert Event.objects.get(user=None).anonymous_id == "visitor-1"

    def test_unknown_person_is_a_field_error(self, trusted_client):
        response = trusted_client.post(URL, [{"event_type": "x", "user": 987654}], format="json")
        assert response.status_code == 400
        assert "0.user" in response.json()["error"]["fields"]

    def test_each_event_names_a_person_or_a_visitor(self, trusted_client):
        response = trusted_client.post(URL, {"event_type": "x"}, format="json")
        assert response.status_code == 400
        assert "0.user" in response.json()["error"]["fields"]

    def test_a_token_without_the_permission_is_a_member(self, db):
        someone = CustomerFactory()
        _, raw = accounts_services.api_token_create(user=someone, name="app")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        other = CustomerFactory()
        assert client.post(URL, {"event_type": "x", "user": other.pk}, format="json").status_code == 403
        assert client.post(URL, {"event_type": "x"}, format="json").status_code == 201
        assert Event.objects.get().user == someone


class TestStaffList:
    def test_needs_the_view_permission(self, member_client, staff_client):
        assert member_client.get(URL).status_code == 403
        assert staff_client().get(URL).status_code == 403
        assert staff_client("engagement.view_event").get(URL).status_code == 200

    def test_cursor_pages_and_filters(self, staff_client):
        person = CustomerFactory()
        Event.objects.bulk_create(
            [Event(user=person, event_type="a" if n % 2 else "b", metadata={"n": n}) for n in range(10)]
        )
        client = staff_client("engagement.view_event")
        page = client.get(URL, {"page_size": 3, "event_type": "a"}).json()
        assert len(page["results"]) == 3
        assert {r["event_type"] for r in page["results"]} == {"a"}
        second = client.get(page["next"]).json()
        assert {r["event_type"] for r in second["results"]} == {"a"}
        assert second["next"] is None
        ids = [r["id"] for r in page["results"] + second["results"]]
        assert len(set(ids)) == 5
        assert ids == sorted(ids, reverse=True)  # newest first

    @pytest.mark.parametrize("rows", [3, 60])
    def test_query_budget_does_not_grow_with_rows(self, staff_client, django_assert_max_num_queries, rows):
        person = CustomerFactory()
        Event.objects.bulk_create([Event(user=person, event_type="x") for _ in range(rows)])
        client = staff_client("engagement.view_event")
        with django_assert_max_num_queries(9):
            assert client.get(URL).status_code == 200


class TestPruning:
    def test_prune_events_drops_the_months_wholly_past_the_retention(self, db, capsys):
        person = CustomerFactory()
        now = timezone.now()
        Event.objects.bulk_create(
            [Event(user=person, event_type="old", created_at=now - timedelta(days=200)) for _ in range(3)]
            + [Event(user=person, event_type="recent", created_at=now - timedelta(days=10))]
        )
        call_command("prune_events", "--older-than", "90")
        assert "deleted 3 events older than 90 days" in capsys.readouterr().out
        assert list(Event.objects.values_list("event_type", flat=True)) == ["recent"]

    def test_prune_events_refuses_to_cut_into_the_window_the_api_accepts(self, db):
        with pytest.raises(CommandError, match="more than 30 days"):
            call_command("prune_events", "--older-than", "30")

    def test_the_log_stays_append_only_outside_pruning(self, db):
        event = Event.objects.create(event_type="x")
        with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
            Event.objects.filter(pk=event.pk).delete()
        with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic():
            Event.objects.filter(pk=event.pk).update(event_type="y")
