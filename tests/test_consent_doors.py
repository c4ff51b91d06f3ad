"""Withdrawing marketing consent has the same effects whatever the door: the member's page, the
unsubscribe link, the API, the console, a command. Each queues the same outbox rows (a Customer.io
identify carrying the new consent, a Kit unsubscription) and records who did it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts import action_links
from accounts.models import PersonChange, User
from accounts.roles import sync_roles
from accounts.tests.factories import CustomerFactory, StaffFactory
from integrations.models import OutboxMessage
from tests.console_forms import form_data

PASSWORD = "correct-horse-42"


@pytest.fixture
def person(db):
    return CustomerFactory(
        email="consent@example.com",
        password=PASSWORD,
        marketing_opt_in=True,
        is_email_verified=True,
        kit_subscriber_id="kit-42",
        name="Grace Hopper",
    )


@pytest.fixture
def support(db):
    sync_roles()
    staff = StaffFactory(password=PASSWORD)
    staff.groups.add(Group.objects.get(name="Support"))
    return staff


def _by_page(person, support):
    client = Client()
    client.force_login(person)  # the documented daily reward at log-in moves gems: not this test's subject
    OutboxMessage.objects.all().delete()
    data = form_data(client.get("/account/").content.decode(), form_id=None)
    data = {k: v for k, v in data.items() if not k.startswith("cf-")}
    data.pop("marketing_opt_in", None)
    response = client.post("/account/", data)
    assert response.status_code == 302, response.content.decode()[:2000]


def _by_link(person, support):
    client = Client()
    url = urlsplit(action_links.action_link_issue(user=person, action="unsubscribe")).path
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 200


def _by_api(person, support):
    client = APIClient()
    client.force_authenticate(person)
    response = client.patch("/api/v1/me/", {"marketing_opt_in": False}, format="json")
    assert response.status_code == 200 and response.json()["marketing_opt_in"] is False


def _by_console(person, support):
    client = Client()
    client.force_login(support)
    url = f"/admin/accounts/customer/{person.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page.content.decode(), form_id="customer_form")
    assert data.pop("marketing_opt_in") == "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def _by_command(person, support):
    call_command("unsubscribe", person.email, "--reason", "asked by phone")


DOORS = {"page": _by_page, "link": _by_link, "api": _by_api, "console": _by_console, "command": _by_command}
EXPECTED_SOURCE = {"page": "page", "link": "unsubscribe_link", "api": "api", "console": "console", "command": "command"}


def _rows(person) -> list[tuple]:
    rows = OutboxMessage.objects.filter(user=person).values_list(
        "destination", "action", "event_name", "is_marketing", "event_data"
    )
    return sorted(rows, key=repr)


@pytest.mark.django_db
@pytest.mark.parametrize("door", DOORS)
def test_every_door_queues_the_same_rows_and_records_who(door, person, support):
    OutboxMessage.objects.all().delete()
    DOORS[door](person, support)
    person.refresh_from_db()
    assert person.marketing_opt_in is False and person.marketing_opt_in_at is None
    assert _rows(person) == [
        ("customerio", "identify", "identify", False, {}),
        ("kit", "subscriber_delete", "subscriber_delete", False, {"subscriber_id": "kit-42"}),
    ]
    change = PersonChange.objects.get(user=person)
    assert change.fields == ["marketing_opt_in"] and change.marketing_opt_in is False
    assert change.source == EXPECTED_SOURCE[door]
    expected_actor = {"page": person.pk, "api": person.pk, "console": support.pk}.get(door)
    assert change.actor_id == expected_actor


@pytest.mark.django_db
def test_the_console_cannot_give_consent(person, support):
    User.objects.filter(pk=person.pk).update(marketing_opt_in=False)
    client = Client()
    client.force_login(support)
    url = f"/admin/accounts/customer/{person.pk}/change/"
    data = form_data(client.get(url).content.decode(), form_id="customer_form")
    data["marketing_opt_in"] = "on"
    response = client.post(url, data)
    assert response.status_code == 200 and "Only the person can give marketing consent" in response.content.decode()
    assert not User.objects.get(pk=person.pk).marketing_opt_in
    assert not OutboxMessage.objects.filter(user=person, destination="kit").exists()


@pytest.mark.django_db
def test_the_console_edits_a_profile_through_the_service_and_never_a_password(person, support):
    client = Client()
    client.force_login(support)
    url = f"/admin/accounts/customer/{person.pk}/change/"
    data = form_data(client.get(url).content.decode(), form_id="customer_form")
    data["profession"] = "Rear admiral"
    data["age"] = "200"
    page = client.post(url, data)
    assert page.status_code == 200 and "between 13 and 120" in page.content.decode()
    data["age"] = "85"
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert (person.profession, person.age, person.marketing_opt_in) == ("Rear admiral", 85, True)
    change = PersonChange.objects.get(user=person)
    assert sorted(change.fields) == ["age", "profession"] and change.actor_id == support.pk
    assert client.get(f"/admin/accounts/customer/{person.pk}/password/").status_code == 403
    assert "password" not in form_data(client.get(url).content.decode(), form_id="customer_form")
