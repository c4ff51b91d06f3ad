"""POST /api/v1/webhooks/customerio/ and /api/v1/webhooks/kit/: effects, log, dedupe."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import CustomerFactory
from focusedroom.testing import run_in_parallel
from integrations.models import AIProfile, WebhookLog
from integrations.webhooks import customerio_sign, kit_sign

SECRET = "whsec-test"
CIO_URL = "/api/v1/webhooks/customerio/"
KIT_URL = "/api/v1/webhooks/kit/"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.CUSTOMERIO_WEBHOOK_SIGNING_SECRET = SECRET
    settings.KIT_WEBHOOK_SECRET = SECRET


def cio_post(body: bytes, *, ts: int | None = None, signature: str | None = None, secret: str = SECRET):
    ts = int(time.time()) if ts is None else ts
    signature = signature if signature is not None else customerio_sign(secret=secret, timestamp=ts, body=body)
    return Client().post(
        CIO_URL,
        data=body,
        content_type="application/json",
        HTTP_X_CIO_TIMESTAMP=str(ts),
        HTTP_X_CIO_SIGNATURE=signature,
    )


def kit_post(body: bytes, *, ts: int | None = None, header: str | None = None):
    ts = int(time.time()) if ts is None else ts
    header = header if header is not None else f"t={ts},v1={kit_sign(secret=SECRET, timestamp=ts, body=body)}"
    return Client().post(KIT_URL, data=body, content_type="application/json", HTTP_X_KIT_SIGNATURE=header)


def cio_body(metric: str, person: User, event_id: str = "evt-1", **extra) -> bytes:
    payload = {
        "event_id": event_id,
        "object_type": "email",
        "metric": metric,
        "timestamp": int(time.time()),
        "data": {"customer_id": str(person.pk), "email_address": person.email, **extra},
    }
    return json.dumps(payload, separators=(",", ":")).encode()


@pytest.fixture
def person(db):
    return CustomerFactory(marketing_opt_in=True, is_email_verified=True, kit_subscriber_id="9001")


class TestCustomerIO:
    def test_unsubscribed_clears_consent_and_is_logged(self, person):
        response = cio_post(cio_body("unsubscribed", person))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "processed"
        person.refresh_from_db()
        assert person.marketing_opt_in is False
        log = WebhookLog.objects.get()
        assert (log.source, log.webhook_type, log.event_id, log.user) == ("customerio", "unsubscribed", "evt-1", person)
        assert log.processed_successfully is True and log.processed_at is not None

    @pytest.mark.parametrize(
        ("metric", "field"), [("bounced", "email_bounced_at"), ("spammed", "email_spam_reported_at")]
    )
    def test_bounces_and_spam_reports_are_recorded_on_the_person(self, person, metric, field):
        assert cio_post(cio_body(metric, person)).status_code == 200
        person.refresh_from_db()
        assert getattr(person, field) is not None
        assert person.marketing_opt_in is True

    def test_bad_signature_is_401_with_no_effect(self, person):
        response = cio_post(cio_body("unsubscribed", person), secret="wrong")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
        person.refresh_from_db()
        assert person.marketing_opt_in is True
        assert WebhookLog.objects.count() == 0

    def test_stale_timestamp_is_401_with_no_effect(self, person):
        response = cio_post(cio_body("unsubscribed", person), ts=int(time.time()) - 301)
        assert response.status_code == 401
        person.refresh_from_db()
        assert person.marketing_opt_in is True
        assert WebhookLog.objects.count() == 0

    def test_re_serialised_body_is_401(self, person):
        body = cio_body("unsubscribed", person)
        ts = int(time.time())
        signature = customerio_sign(secret=SECRET, timestamp=ts, body=body)
        reserialised = json.dumps(json.loads(body), indent=2).encode()
        assert cio_post(reserialised, ts=ts, signature=signature).status_code == 401
        person.refresh_from_db()
        assert person.marketing_opt_in is True

    def test_missing_headers_are_401(self, person):
        response = Client().post(CIO_URL, data=cio_body("unsubscribed", person), content_type="application/json")
        assert response.status_code == 401

    def test_a_replayed_delivery_adds_no_row_and_has_no_effect(self, person):
        body = cio_body("bounced", person)
        assert cio_post(body).json()["status"] == "processed"
        person.refresh_from_db()
        first = person.email_bounced_at
        replay = cio_post(body)
        assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
        person.refresh_from_db()
        assert person.email_bounced_at == first
        log = WebhookLog.objects.get()  # one row: the replay is counted on it
        assert (log.is_duplicate, log.replay_count) == (False, 1) and log.last_replayed_at is not None
        cio_post(body)
        assert WebhookLog.objects.get().replay_count == 2

    def test_an_unknown_person_is_logged_as_not_processed(self, db):
        ghost = User(pk=987654, email="ghost@example.com")
        response = cio_post(cio_body("unsubscribed", ghost))
        assert response.status_code == 200 and response.json()["status"] == "ignored"
        log = WebhookLog.objects.get()
        assert log.processed_successfully is False and "No person matches" in log.error_message

    def test_an_unhandled_metric_is_logged_with_its_reason(self, person):
        cio_post(cio_body("opened", person))
        log = WebhookLog.objects.get()
        assert log.processed_successfully is False and "'opened' is not handled" in log.error_message
        assert log.user == person

    def test_a_signed_but_malformed_body_is_400_and_logged(self, person):
        response = cio_post(b'{"metric": "unsubscribed"}')
        assert response.status_code == 400
        log = WebhookLog.objects.get()
        assert log.webhook_type == "invalid" and log.processed_successfully is False
        person.refresh_from_db()
        assert person.marketing_opt_in is True
        assert cio_post(b"not json").status_code == 400

    def test_prediction_updates_the_ai_profile_and_an_older_one_is_ignored(self, person):
        predictions = {"churn_probability": 0.8123, "predicted_lifetime_value": 120.5, "next_best_action": "call"}
        cio_post(cio_body("prediction_update", person, event_id="p1", predictions=predictions))
        profile = AIProfile.objects.get(user=person)
        assert profile.churn_probability == Decimal("0.8123")
        assert profile.predicted_lifetime_value == Decimal("120.50")
        assert profile.next_best_action == "call"
        assert profile.customerio_predicted_at is not None
        older = json.loads(cio_body("prediction_update", person, event_id="p0", predictions={"churn_probability": 0.1}))
        older["timestamp"] -= 3600
        cio_post(json.dumps(older).encode())
        profile.refresh_from_db()
        assert profile.churn_probability == Decimal("0.8123")

    def test_segment_change_sets_the_segment(self, person):
        cio_post(cio_body("segment_change", person, event_id="s1", segment="vip"))
        assert AIProfile.objects.get(user=person).recommended_segment == "vip"

    def test_out_of_range_predictions_are_refused(self, person):
        response = cio_post(cio_body("prediction_update", person, predictions={"churn_probability": 3}))
        assert response.status_code == 400
        assert not AIProfile.objects.exists()


class TestKit:
    def body(self, person, state=None, event=None, **subscriber):
        payload = {"subscriber": {"id": int(person.kit_subscriber_id), "email_address": person.email, **subscriber}}
        if state:
            payload["subscriber"]["state"] = state
        if event:
            payload["event"] = event
        return json.dumps(payload).encode()

    def test_active_state_is_stored(self, person):
        response = kit_post(self.body(person, state="active"))
        assert response.status_code == 200, response.content
        person.refresh_from_db()
        assert person.kit_state == "active" and person.marketing_opt_in is True

    @pytest.mark.parametrize(
        ("state", "event"),
        [("cancelled", None), ("complained", None), (None, "subscriber.subscriber_unsubscribe")],
    )
    def test_cancelled_and_complained_clear_consent(self, person, state, event):
        assert kit_post(self.body(person, state=state, event=event)).status_code == 200
        person.refresh_from_db()
        assert person.kit_state in ("cancelled", "complained")
        assert person.marketing_opt_in is False
        assert WebhookLog.objects.get().source == "kit"

    def test_bounced_keeps_consent(self, person):
        kit_post(self.body(person, state="bounced"))
        person.refresh_from_db()
        assert person.kit_state == "bounced" and person.marketing_opt_in is True

    def test_one_good_v1_among_several_is_accepted(self, person):
        body = self.body(person, state="cancelled")
        ts = int(time.time())
        good = kit_sign(secret=SECRET, timestamp=ts, body=body)
        header = f"t={ts},v1={'0' * 64},v1={good}"
        assert kit_post(body, header=header).status_code == 200

    @pytest.mark.parametrize("case", ["bad", "stale", "reserialised"])
    def test_refused_deliveries_have_no_effect(self, person, case):
        body = self.body(person, state="cancelled")
        ts = int(time.time())
        if case == "bad":
            response = kit_post(body, header=f"t={ts},v1={kit_sign(secret='x', timestamp=ts, body=body)}")
        elif case == "stale":
            response = kit_post(body, ts=ts - 301)
        else:
            header = f"t={ts},v1={kit_sign(secret=SECRET, timestamp=ts, body=body)}"
            response = kit_post(json.dumps(json.loads(body), indent=2).encode(), header=header)
        assert response.status_code == 401
        person.refresh_from_db()
        assert person.marketing_opt_in is True and person.kit_state == "unconfirmed"
        assert WebhookLog.objects.count() == 0

    def test_replay_is_a_duplicate(self, person):
        body = self.body(person, state="cancelled")
        ts = int(time.time())
        header = f"t={ts},v1={kit_sign(secret=SECRET, timestamp=ts, body=body)}"
        assert kit_post(body, header=header).json()["status"] == "processed"
        assert kit_post(body, header=header).json()["status"] == "duplicate"
        assert WebhookLog.objects.count() == 1 and WebhookLog.objects.get().replay_count == 1

    def test_found_by_email_when_the_id_is_new(self, db):
        someone = CustomerFactory(marketing_opt_in=True)
        body = json.dumps({"subscriber": {"id": 42, "email_address": someone.email.upper(), "state": "active"}})
        assert kit_post(body.encode()).status_code == 200
        someone.refresh_from_db()
        assert (someone.kit_subscriber_id, someone.kit_state) == ("42", "active")


class TestDatabaseRules:
    def test_one_first_delivery_per_event_is_enforced_by_the_database(self, db):
        from django.db import IntegrityError, transaction

        WebhookLog.objects.create(source="kit", webhook_type="x", event_id="e", processed_successfully=True)
        with pytest.raises(IntegrityError), transaction.atomic():
            WebhookLog.objects.create(source="kit", webhook_type="x", event_id="e", processed_successfully=True)
        WebhookLog.objects.create(source="kit", webhook_type="x", event_id="e", is_duplicate=True)

    def test_a_failed_delivery_needs_its_reason(self, db):
        from django.db import IntegrityError

        with pytest.raises(IntegrityError):
            WebhookLog.objects.create(source="kit", webhook_type="x", event_id="f", processed_successfully=False)


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_are_processed_once():
    person = CustomerFactory(marketing_opt_in=True)
    body = cio_body("unsubscribed", person, event_id="race")
    statuses, errors = run_in_parallel(4, lambda i: cio_post(body).json()["status"])
    assert errors == []
    assert sorted(statuses) == ["duplicate", "duplicate", "duplicate", "processed"]
    assert WebhookLog.objects.count() == 1 and WebhookLog.objects.get().replay_count == 3
