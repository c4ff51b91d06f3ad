"""GDPR export and erasure, end to end: API, commands, database rows, provider deletions, atomicity."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import action_links, custom_fields, gdpr_services, services
from accounts.models import (
    AccountClaim,
    ApiToken,
    Brand,
    CustomField,
    CustomFieldValue,
    EmailVerificationToken,
    User,
)
from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.models import Event
from engagement.services import event_record
from focusedroom import registries
from focusedroom.context import RequestContext
from integrations.models import OutboxMessage

PASSWORD = "correct-horse-42"
PERSONAL = ["Ada Lovelace", "ada.l@example.com", "+44 20 7946 0000", "Analyst of engines", "Compose music by machine"]


@pytest.fixture
def person(db):
    """A member with data in every accounts table and in the event log."""
    user = CustomerFactory(
        email="ada.l@example.com",
        name="Ada Lovelace",
        first_name="Ada",
        last_name="Lovelace",
        phone_number="+44 20 7946 0000",
        age=36,
        profession="Analyst of engines",
        purpose="Compose music by machine",
        country_code="GB",
        marketing_opt_in=True,
        marketing_opt_in_at=timezone.now(),
        kit_subscriber_id="kit-777",
        password=PASSWORD,
    )
    now = timezone.now()
    EmailVerificationToken.objects.create(
        user=user, token="b" * 64, email=user.email, created_at=now, expires_at=now + timedelta(hours=48)
    )
    AccountClaim.objects.create(user=user, token_hash="c" * 64, password_hash="x", expires_at=now + timedelta(hours=1))
    brand = Brand.objects.get(slug="focusedroom")
    CustomField.objects.create(brand=brand, field_key="city", field_label="City", field_type="text")
    custom_fields.custom_field_values_set(user=user, brand=brand, values={"city": "London, Marylebone"})
    services.api_token_create(user=user, name="phone")
    action_links.action_link_issue(user=user, action="unsubscribe")
    request = RequestFactory().post(
        "/api/v1/events/", HTTP_USER_AGENT="Mozilla/5.0 (iPhone)", REMOTE_ADDR="203.0.113.9"
    )
    context = RequestContext.from_request(request, source="api")
    event_record(event_type="page_view", user=user, page_url="/report/ada", context=context)
    event_record(event_type="daily_login", user=user, points_awarded=5, context=context)
    LogEntry.objects.create(
        user=StaffFactory(),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=CHANGE,
    )
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestExport:
    def test_api_export_has_every_part_and_no_secrets(self, person):
        response = client_for(person).get("/api/v1/me/export/")
        assert response.status_code == 200
        body = response.json()
        assert body["person_id"] == person.pk and body["format_version"] == 1
        assert set(body["parts"]) == {part.name for part in registries.gdpr_parts.entries()}
        accounts = body["parts"]["accounts"]
        assert accounts["person"]["email"] == "ada.l@example.com"
        assert accounts["person"]["name"] == "Ada Lovelace" and accounts["person"]["age"] == 36
        assert accounts["email_verification_links"][0]["email"] == "ada.l@example.com"
        assert accounts["custom_fields"] == [
            {
                "brand": "focusedroom",
                "field_key": "city",
                "field_label": "City",
                "value": "London, Marylebone",
                "updated_at": accounts["custom_fields"][0]["updated_at"],
            }
        ]
        token = ApiToken.objects.get(user=person)
        assert accounts["api_tokens"] == [
            {
                "prefix": token.prefix,
                "name": "phone",
                "created_at": accounts["api_tokens"][0]["created_at"],
                "last_used_at": None,
                "revoked_at": None,
            }
        ]
        text = response.content.decode()
        assert "b" * 64 not in text and token.key_hash not in text and "password" not in text
        assert "token_hash" not in text and person.action_tokens.get().token_hash not in text

    def test_command_prints_the_same_data(self, person):
        out = io.StringIO()
        call_command("export_person", "ADA.L@example.com", stdout=out)
        exported = json.loads(out.getvalue())
        assert exported["parts"]["accounts"]["person"]["email"] == "ada.l@example.com"
        assert exported["parts"]["accounts"]["custom_fields"][0]["value"] == "London, Marylebone"
        with pytest.raises(CommandError, match="No person"):
            call_command("export_person", "nobody@example.com")

    def test_export_needs_authentication(self):
        assert APIClient().get("/api/v1/me/export/").status_code == 401


def assert_erased(user_id: int) -> None:
    row = User.all_objects.get(pk=user_id)
    assert row.email == f"erased-{user_id}@erased.invalid"
    assert (row.name, row.first_name, row.last_name, row.phone_number) == ("", "", "", "")
    assert (row.age, row.profession, row.purpose, row.country_code) == (None, "", "", "")
    assert not row.has_usable_password()
    assert not row.marketing_opt_in and row.marketing_opt_in_at is None
    assert row.kit_subscriber_id == ""
    assert row.deleted_at is not None and not row.is_active
    assert not EmailVerificationToken.objects.filter(user_id=user_id).exists()
    assert not AccountClaim.objects.filter(user_id=user_id).exists()
    assert not CustomFieldValue.objects.filter(user_id=user_id).exists()
    assert not ApiToken.objects.filter(user_id=user_id, revoked_at__isnull=True).exists()
    # No personal value is left anywhere in the accounts tables or the console's history.
    with connection.cursor() as cursor:
        for table in (
            "accounts_user",
            "email_verification_tokens",
            "user_custom_field_values",
            "accounts_accountclaim",
            "accounts_apitoken",
            "django_admin_log",
        ):
            cursor.execute(f"SELECT t::text FROM {table} t")
            dump = " ".join(r[0] for r in cursor.fetchall())
            for value in [*PERSONAL, "London, Marylebone", "kit-777"]:
                assert value not in dump, (table, value)


@pytest.mark.django_db
class TestErase:
    def test_delete_me_pseudonymises_and_queues_provider_deletions(self, person):
        client = client_for(person)
        events_before = list(Event.objects.filter(user=person).values_list("event_type", "points_awarded"))
        token_client = APIClient()
        _, raw = services.api_token_create(user=person)
        token_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

        response = client.delete("/api/v1/me/")
        assert response.status_code == 204
        assert_erased(person.pk)

        cio = OutboxMessage.objects.get(user_id=person.pk, event_name="person_erased", destination="customerio")
        assert cio.action == OutboxMessage.Action.DELETE and cio.event_data == {"customer_id": str(person.pk)}
        assert cio.status == "pending" and cio.brand.slug == "focusedroom"
        kit = OutboxMessage.objects.get(user_id=person.pk, event_name="person_erased", destination="kit")
        assert kit.action == OutboxMessage.Action.SUBSCRIBER_DELETE and kit.event_data == {"subscriber_id": "kit-777"}

        # Aggregates survive: the person's events keep their type and points.
        after = list(Event.objects.filter(user_id=person.pk).values_list("event_type", "points_awarded"))
        assert sorted(after) == sorted(events_before)

        # The erased person is gone from the API and the pages.
        assert client.get("/api/v1/me/").status_code == 401
        assert token_client.get("/api/v1/me/").status_code == 401
        stale = APIClient()
        stale.force_login(User.all_objects.get(pk=person.pk))
        assert stale.get("/api/v1/me/custom-fields/").status_code == 401
        assert stale.get("/api/v1/me/export/").status_code == 401

    def test_erased_person_cannot_use_pages_and_the_email_is_free_again(self, person, client):
        client.force_login(person)
        gdpr_services.person_erase(user=person)
        response = client.get("/account/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        assert not client.login(username="ada.l@example.com", password=PASSWORD)
        fresh, created = services.person_identify(email="ada.l@example.com")
        assert created and fresh.pk != person.pk

    def test_person_without_kit_gets_only_the_customerio_deletion(self):
        user = CustomerFactory()
        gdpr_services.person_erase(user=user)
        rows = OutboxMessage.objects.filter(user=user, event_name="person_erased")
        assert list(rows.values_list("destination", "action")) == [("customerio", "delete")]

    def test_command_erases_once(self, person):
        out = io.StringIO()
        call_command("erase_person", "ada.l@example.com", "--noinput", stdout=out)
        assert f"erased-{person.pk}@erased.invalid" in out.getvalue()
        assert_erased(person.pk)
        with pytest.raises(CommandError, match="No person"):
            call_command("erase_person", "ada.l@example.com", "--noinput")
        with pytest.raises(Exception, match="already erased"):
            gdpr_services.person_erase(user=person)

    def test_command_asks_for_confirmation(self, person, monkeypatch):
        monkeypatch.setattr("builtins.input", lambda prompt: "no")
        with pytest.raises(CommandError, match="cancelled"):
            call_command("erase_person", "ada.l@example.com")
        person.refresh_from_db()
        assert person.email == "ada.l@example.com" and person.deleted_at is None

    def test_a_failing_part_erases_nothing(self, person, monkeypatch):
        def broken(*, user):
            raise RuntimeError("part failed")

        monkeypatch.setitem(
            registries.gdpr_parts._entries,
            "broken",
            registries.GdprPart(name="broken", export=lambda *, user: {}, erase=broken),
        )
        with pytest.raises(RuntimeError):
            gdpr_services.person_erase(user=person)
        row = User.objects.get(pk=person.pk)
        assert row.email == "ada.l@example.com" and row.name == "Ada Lovelace" and row.deleted_at is None
        assert CustomFieldValue.objects.filter(user=person).exists()
        assert EmailVerificationToken.objects.filter(user=person).exists()
        assert not OutboxMessage.objects.filter(user=person, event_name="person_erased").exists()
