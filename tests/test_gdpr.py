"""GDPR export and erasure, end to end: API, commands, database rows, provider deletions, atomicity."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, RequestFactory
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
from experiments.models import Experiment
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


# ------------------------------------------------------------ erasure reaches every app

MARKER = "Zyxqwmarker"


def _pg_dump_text() -> str:
    """A data-only dump of the whole test database (every table, every app), as PostgreSQL sees it."""
    import shutil
    import subprocess
    from pathlib import Path

    import pgserver

    from focusedroom.embedded_db import database_url_for

    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    binary = str(bundled) if bundled.exists() else shutil.which("pg_dump")
    url = database_url_for(connection.settings_dict).replace("postgres://", "postgresql://", 1)
    dump = subprocess.run(
        [binary, "--data-only", "--no-owner", f"--dbname={url}"], capture_output=True, text=True, timeout=120
    )
    assert dump.returncode == 0, dump.stderr
    return dump.stdout


def _tables_mentioning(dump: str, *needles: str) -> set[str]:
    """Tables whose dumped rows mention a needle; a monthly partition counts as its table."""
    tables, table = set(), ""
    for line in dump.splitlines():
        if line.startswith("COPY "):
            table = re.sub(r"_p\d{6}$", "", line.split()[1].removeprefix("public."))
        elif any(n.lower() in line.lower() for n in needles):
            tables.add(table)
    return tables


def _expose(client, **fields):
    response = client.post("/api/v1/experiments/erasure-test/exposures/", fields, format="json")
    assert response.status_code == 200, response.content
    return response


@pytest.mark.django_db(transaction=True)
def test_erasure_leaves_no_trace_of_the_person_anywhere_in_the_database(settings, django_capture_on_commit_callbacks):
    """A person leaves data through every door (pages, API, experiments, webhooks, providers, the console);
    after ``DELETE /api/v1/me/`` a dump of the whole database holds nothing of their name, purpose or email,
    their report URLs answer 404, and aggregates do not move."""
    import time

    from django.core import mail

    from engagement.models import PendingResult, QuizResult
    from engagement.tests.helpers import answers
    from experiments import selectors as experiment_selectors
    from experiments import services as experiment_services
    from integrations.webhooks import customerio_sign
    from rewards.models import LedgerEntry

    settings.CUSTOMERIO_WEBHOOK_SIGNING_SECRET = "whsec-test"
    email = f"{MARKER.lower()}.person@example.com"
    name = f"Ada {MARKER}"
    purpose = f"Find the {MARKER} in me"
    experiment_services.experiment_start(
        experiment=experiment_services.experiment_create(
            data={"name": "Erasure test", "key": "erasure-test"},
            variants=[{"name": "control", "weight": "0.5"}, {"name": "b", "weight": "0.5"}],
        )
    )

    # 1. A browser sees an experiment (the page URL carries the email), takes the test with the email.
    _expose(APIClient())  # someone else, for the aggregates
    first_browser = APIClient()
    _expose(first_browser, page_url=f"https://focusedroom.example/?email={email}&name={MARKER}", utm_campaign=MARKER)
    with django_capture_on_commit_callbacks(execute=True):
        response = first_browser.post(
            "/big-five/",
            {**{k: str(v) for k, v in answers(4).items()}, "email": email, "name": name, "purpose": purpose,
             "age": "36", "sex": "F", "utm_source": MARKER},
            format="multipart",
            HTTP_USER_AGENT=f"Mozilla/5.0 {MARKER}",
            HTTP_REFERER=f"https://search.example/?q={MARKER}",
        )  # fmt: skip
    assert response.status_code == 302
    person = User.objects.get(email=email)
    first_report = QuizResult.objects.get(customer=person)

    # 2. They verify the address and sign up; they log in and fill their profile and custom fields.
    verify = re.search(r"/verify-email/([^/\s]+)/", mail.outbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        Client().post(f"/verify-email/{verify}/", {"marketing_opt_in": "on"})
        APIClient().post("/api/v1/auth/register/", {"email": email, "password": PASSWORD})
    claim = re.search(r"/accounts/claim/([^/\s]+)/", mail.outbox[-1].body).group(1)
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(f"/accounts/claim/{claim}/").status_code == 302
        browser.post("/account/", {"name": name, "purpose": purpose, "profession": f"{MARKER} analyst",
                                   "time_zone": "UTC", "marketing_opt_in": "on"})  # fmt: skip
    brand = Brand.objects.get(slug="focusedroom")
    CustomField.objects.create(brand=brand, field_key="motto", field_label="Motto", field_type="text")
    custom_fields.custom_field_values_set(user=person, brand=brand, values={"motto": f"{MARKER} forever"})

    # 3. Logged in, a second test (numbered 2); a conversion with details; an event with the email in its URL.
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/big-five/", {**{k: str(v) for k, v in answers(2).items()}, "name": name, "purpose": purpose})
    api = APIClient()
    api.force_authenticate(person)
    api.post("/api/v1/conversions/", {"conversion_type": "purchase", "details": {"note": MARKER}}, format="json")
    api.post("/api/v1/events/", {"event_type": "page_view", "page_url": f"/r?email={email}"}, format="json")

    # 4. Another browser, not logged in: an exposure, then a test with their email (waits for them).
    other_browser = APIClient()
    _expose(other_browser, page_url=f"https://focusedroom.example/?who={MARKER}")
    with django_capture_on_commit_callbacks(execute=True):
        waiting = other_browser.post(
            "/api/v1/assessments/big-five/",
            {"answers": answers(3), "email": email, "name": name, "purpose": purpose},
            format="json",
        ).json()
    assert PendingResult.objects.filter(user=person).exists()

    # 5. A provider's webhook about them; support looks them up in the console.
    body = json.dumps({"event_id": "wh-1", "metric": "bounced",
                       "data": {"customer_id": str(person.pk), "email_address": email}}).encode()  # fmt: skip
    ts = int(time.time())
    Client().post("/api/v1/webhooks/customerio/", data=body, content_type="application/json",
                  HTTP_X_CIO_TIMESTAMP=str(ts), HTTP_X_CIO_SIGNATURE=customerio_sign(
                      secret="whsec-test", timestamp=ts, body=body))  # fmt: skip
    support = StaffFactory(is_superuser=True)
    console = Client()
    console.force_login(support)
    assert console.get(f"/admin/accounts/customer/{person.pk}/change/").status_code == 200

    dump = _pg_dump_text()
    # The marker really went everywhere: these tables hold it before the erasure.
    assert {
        "accounts_user",
        "user_custom_field_values",
        "engagement_quizresult",
        "quiz_result_pending",
        "engagement_event",
        "impressions",
        "conversions",
        "customer_io_webhook_log",
    } <= _tables_mentioning(dump, MARKER, email)
    export = browser.get("/api/v1/me/export/").json()["parts"]
    assert export["engagement"]["quiz_results"] and export["engagement"]["quiz_results_waiting"]
    assert export["experiments"]["before_identifying"]["impressions"]
    results_before = experiment_selectors.experiment_results(experiment=Experiment.objects.get(key="erasure-test"))
    ledger_before = LedgerEntry.objects.filter(wallet__user=person).values_list("amount", flat=True)
    ledger_before = sorted(ledger_before)

    assert browser.delete("/api/v1/me/").status_code == 204

    dump = _pg_dump_text()
    assert _tables_mentioning(dump, MARKER, email) == set()
    for public_id in (first_report.public_id, waiting["id"]):
        assert Client().get(f"/big-five/results/{public_id}/").status_code == 404
        assert APIClient().get(f"/api/v1/assessments/big-five/{public_id}/").status_code == 404
    results_after = experiment_selectors.experiment_results(experiment=Experiment.objects.get(key="erasure-test"))
    assert results_after["participants"] == results_before["participants"]
    assert [v["participants"] for v in results_after["variants"]] == [
        v["participants"] for v in results_before["variants"]
    ]
    assert sorted(LedgerEntry.objects.filter(wallet__user_id=person.pk).values_list("amount", flat=True)) == (
        ledger_before
    )
    assert QuizResult.objects.filter(customer_id=person.pk).count() == 2
