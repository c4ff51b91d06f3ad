"""The outbox worker against the fake Customer.io and Kit servers (real HTTP, real PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import BrandFactory, CustomerFactory
from focusedroom.embedded_db import database_url_for
from focusedroom.testing import run_in_parallel
from integrations import selectors, services
from integrations.models import OutboxMessage
from integrations.outbox import OutboxWorker, backoff_seconds, outbox_claim
from integrations.services import outbox_enqueue
from integrations.tests import fixtures as integration_fixtures
from integrations.tests.fixtures import API_KEY, SITE_ID

# Shared fixtures (pytest finds fixtures by name in the module).
cio = integration_fixtures.cio
default_brand = integration_fixtures.default_brand
kit = integration_fixtures.kit

Status = OutboxMessage.Status
ROOT = Path(__file__).resolve().parents[2]


def worker(**kwargs) -> OutboxWorker:
    kwargs.setdefault("lease_seconds", 30)
    return OutboxWorker(**kwargs)


def make_due(*messages: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(next_attempt_at=timezone.now())


@pytest.fixture
def person(db):
    return CustomerFactory(first_name="Ada", marketing_opt_in=True, is_email_verified=True)


class TestDelivery:
    def test_identify_sends_current_attributes_and_marks_sent(self, cio, person):
        message = services.outbox_identify(user=person)
        person.country_code = "FR"
        person.save()
        result = worker().process_batch()
        assert (result.claimed, result.sent) == (1, 1)
        request = cio.requests[0]
        assert (request.method, request.path) == ("PUT", f"/customers/{person.pk}")
        assert request.body["email"] == person.email
        assert request.body["country_code"] == "FR"  # read at delivery, not at enqueue
        message.refresh_from_db()
        assert message.status == Status.SENT
        assert message.processed_at is not None
        assert message.locked_until is None
        assert message.attempt_count == 1

    def test_event_is_posted_with_its_data(self, cio, person):
        services.outbox_event(user=person, name="gems_earned", data={"amount": 25})
        worker().process_batch()
        assert cio.events == [(str(person.pk), "gems_earned", {"amount": 25})]

    def test_priority_then_age_orders_the_claim(self, cio, person):
        late_event = services.outbox_event(user=person, name="gems_earned", data={"n": 1})
        identify = services.outbox_identify(user=person)
        worker(batch_size=1).process_batch()
        identify.refresh_from_db()
        late_event.refresh_from_db()
        assert identify.status == Status.SENT and late_event.status == Status.PENDING

    @pytest.mark.parametrize("answer", [500, 429, 503, "hang"])
    def test_transient_failures_are_retried_with_backoff(self, cio, person, settings, answer):
        settings.OUTBOX_BACKOFF_BASE_SECONDS = 60
        cio.script(answer)
        message = services.outbox_identify(user=person)
        before = timezone.now()
        result = worker(lease_seconds=5).process_batch()
        assert result.retried == 1
        message.refresh_from_db()
        assert message.status == Status.PENDING
        assert message.attempt_count == 1
        assert message.locked_until is None
        assert str(answer) in message.last_error or "timed out" in message.last_error
        delay = (message.next_attempt_at - before).total_seconds()
        assert 30 - 1 <= delay <= 60 + 5  # first retry: between half and all of the base delay
        # Not due yet: nothing claimed.
        assert worker().process_batch().claimed == 0
        make_due(message)
        assert worker().process_batch().sent == 1
        message.refresh_from_db()
        assert message.status == Status.SENT and message.attempt_count == 2 and message.last_error == ""

    @pytest.mark.parametrize("answer", [400, 404, 422])
    def test_other_client_errors_fail_at_once(self, cio, person, answer):
        cio.script(answer)
        message = services.outbox_identify(user=person)
        result = worker().process_batch()
        assert result.failed == 1
        message.refresh_from_db()
        assert message.status == Status.FAILED
        assert message.attempt_count == 1
        assert f"HTTP {answer}" in message.last_error

    def test_dead_letter_after_the_configured_attempts(self, cio, person, settings):
        settings.OUTBOX_MAX_ATTEMPTS = 3
        cio.default = 500
        message = services.outbox_identify(user=person)
        for expected in (Status.PENDING, Status.PENDING, Status.FAILED):
            make_due(message)
            worker().process_batch()
            message.refresh_from_db()
            assert message.status == expected
        assert message.attempt_count == 3
        assert message.last_error.startswith("Gave up after 3 attempts")
        assert len(cio.requests) == 3
        make_due(message)
        assert worker().process_batch().claimed == 0  # failed rows stay failed

    def test_backoff_grows_and_is_capped(self, settings):
        settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
        settings.OUTBOX_BACKOFF_MAX_SECONDS = 100
        for attempt, (low, high) in {1: (5, 10), 2: (10, 20), 3: (20, 40), 10: (50, 100)}.items():
            samples = [backoff_seconds(attempt) for _ in range(200)]
            assert low <= min(samples) and max(samples) <= high
            assert len(set(samples)) > 1  # jitter

    def test_retry_service_requeues_failed_messages_only(self, cio, person):
        cio.script(400)
        failed = services.outbox_identify(user=person)
        worker().process_batch()
        pending = services.outbox_event(user=person, name="gems_earned", data={})
        assert services.outbox_retry(message_ids=[failed.pk, pending.pk]) == 1
        failed.refresh_from_db()
        assert (failed.status, failed.attempt_count, failed.last_error) == (Status.PENDING, 0, "")
        assert worker().process_batch().sent == 2


class TestCredentials:
    def test_without_credentials_rows_wait_pending_and_the_monitor_says_why(self, cio, person, default_brand):
        default_brand.customer_io_api_key = ""
        default_brand.save()
        message = services.outbox_identify(user=person)
        assert worker().process_batch().claimed == 0
        message.refresh_from_db()
        assert message.status == Status.PENDING and message.attempt_count == 0
        assert cio.requests == []
        summary = selectors.outbox_summary()
        assert summary.counts["pending"] == 1
        assert any("has no Customer.io site id and API key" in line for line in summary.waiting)
        annotated = selectors.with_delivery_readiness(OutboxMessage.objects.filter(pk=message.pk)).get()
        assert selectors.outbox_waiting_reason(annotated) == "no Customer.io credentials for its brand"

    def test_a_brand_with_its_own_credentials_is_sent_with_them(self, cio, person, default_brand):
        other = BrandFactory(customer_io_site_id=SITE_ID, customer_io_api_key=API_KEY)
        services.outbox_event(user=person, name="gems_earned", data={}, brand=other)
        result = worker().process_batch()
        # the brand's workspace first learns who the person is, then gets the event
        assert result.sent == 2
        assert [r.method for r in cio.requests] == ["PUT", "POST"]

    def test_kit_rows_wait_without_an_api_key(self, settings, person, default_brand):
        settings.KIT_API_KEY = ""
        services.outbox_kit_sync(user=person)
        assert worker().process_batch().claimed == 0
        assert any("KIT_API_KEY" in line for line in selectors.outbox_summary().waiting)


class TestKit:
    def test_opted_in_verified_person_is_upserted_and_the_id_stored(self, kit, person):
        message = services.outbox_kit_sync(user=person)
        assert message.destination == "kit" and message.is_marketing
        assert worker().process_batch().sent == 1
        assert kit.requests[0].path == "/v4/subscribers"
        assert kit.requests[0].body["email_address"] == person.email
        person.refresh_from_db()
        assert person.kit_subscriber_id == str(kit.subscribers[person.email]["id"])
        assert person.kit_state == "active"

    @pytest.mark.parametrize(("opt_in", "verified"), [(False, True), (True, False)])
    def test_no_kit_sync_without_opt_in_and_verification(self, kit, db, opt_in, verified):
        someone = CustomerFactory(marketing_opt_in=opt_in, is_email_verified=verified)
        assert services.outbox_kit_sync(user=someone) is None
        assert not OutboxMessage.objects.filter(destination="kit").exists()

    def test_unsubscribe_uses_the_stored_subscriber_id(self, kit, person):
        services.outbox_kit_sync(user=person)
        worker().process_batch()
        person.refresh_from_db()
        services.outbox_kit_unsubscribe(user=person)
        assert worker().process_batch().sent == 1
        assert kit.requests[-1].path == f"/v4/subscribers/{person.kit_subscriber_id}/unsubscribe"


class TestConsent:
    def test_marketing_events_are_not_queued_without_opt_in(self, db):
        someone = CustomerFactory(marketing_opt_in=False)
        assert services.outbox_event(user=someone, name="gems_earned", data={}) is None
        assert outbox_enqueue(user=someone, event_name="promo", marketing=True) is None
        assert services.outbox_event(user=someone, name="email_verified", data={}) is not None
        assert services.outbox_identify(user=someone) is not None  # identify is always transactional
        assert set(OutboxMessage.objects.values_list("event_name", "is_marketing")) == {
            ("email_verified", False),
            ("identify", False),
        }

    def test_consent_withdrawn_before_delivery_is_not_sent(self, cio, person):
        message = services.outbox_event(user=person, name="product_scanned", data={})
        type(person).objects.filter(pk=person.pk).update(marketing_opt_in=False)
        result = worker().process_batch()
        assert result.failed == 1
        message.refresh_from_db()
        assert message.status == Status.FAILED
        assert "withdrew marketing consent" in message.last_error
        assert cio.requests == []

    def test_identify_rows_are_deduplicated_while_pending(self, db):
        someone = CustomerFactory()
        assert services.outbox_identify(user=someone) is not None
        assert services.outbox_identify(user=someone) is None
        assert OutboxMessage.objects.filter(user=someone, action="identify").count() == 1


class TestLeases:
    def test_a_lost_lease_never_overwrites_the_new_owner(self, cio, person):
        message = services.outbox_identify(user=person)
        [(pk, first_lease)] = outbox_claim(batch_size=10, lease_seconds=30)
        OutboxMessage.objects.filter(pk=pk).update(locked_until=timezone.now() - timedelta(seconds=1))
        [(_, second_lease)] = outbox_claim(batch_size=10, lease_seconds=30)
        assert second_lease != first_lease
        stale = worker()
        message.refresh_from_db()
        assert stale._finish(message, first_lease, status=Status.SENT) == 0
        message.refresh_from_db()
        assert message.status == Status.PROCESSING and message.attempt_count == 2

    def test_rows_under_a_live_lease_are_not_reclaimed(self, cio, person):
        services.outbox_identify(user=person)
        assert len(outbox_claim(batch_size=10, lease_seconds=30)) == 1
        assert outbox_claim(batch_size=10, lease_seconds=30) == []

    def test_a_lease_too_short_for_the_http_timeout_is_refused(self, settings):
        settings.INTEGRATIONS_HTTP_TIMEOUT = 10
        with pytest.raises(ValueError, match="lease"):
            OutboxWorker(lease_seconds=15)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("task_queue")  # rows wait in the outbox (delivery jobs are queued, not run at commit)
class TestParallelWorkers:
    def test_four_workers_in_parallel_never_send_a_row_twice(self, cio):
        people = [CustomerFactory() for _ in range(5)]
        for n in range(200):
            outbox_enqueue(user=people[n % 5], event_name="gems_earned", data={"n": n})

        def run(i: int) -> None:
            w = OutboxWorker(batch_size=7, lease_seconds=30)
            while w.process_batch().claimed:
                pass

        _, errors = run_in_parallel(4, run)
        assert errors == []
        sent = Counter(data["n"] for _, name, data in cio.events)
        assert len(sent) == 200
        assert max(sent.values()) == 1
        assert OutboxMessage.objects.filter(status=Status.SENT, attempt_count=1).count() == 200

    def test_a_worker_killed_mid_batch_leaves_rows_that_are_reclaimed(self, cio):
        person = CustomerFactory()
        rows = [outbox_enqueue(user=person, event_name="gems_earned", data={"n": n}) for n in range(5)]
        cio.default = "hang"
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "focusedroom.test_settings",
            "DATABASE_URL": database_url_for(db),
            "CUSTOMERIO_TRACK_URL": cio.url,
        }
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "process_outbox", "--once", "--batch-size", "5", "--lease-seconds", "60"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while cio.count == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert cio.count == 1, "the worker never reached the fake server"
        finally:
            proc.kill()  # SIGKILL: no cleanup at all
            proc.wait(10)
        assert OutboxMessage.objects.filter(status=Status.PROCESSING).count() == 5
        # Nothing is reclaimed while the dead worker's lease runs …
        assert OutboxWorker(lease_seconds=30).process_batch().claimed == 0
        # … and everything is once it has expired.
        OutboxMessage.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
        cio.default = 200
        result = OutboxWorker(lease_seconds=30).process_batch()
        assert (result.claimed, result.sent) == (5, 5)
        assert sorted(data["n"] for _, _, data in cio.events) == [0, 1, 2, 3, 4]
        for row in rows:
            row.refresh_from_db()
            assert row.status == Status.SENT and row.attempt_count == 2
