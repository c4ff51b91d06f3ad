"""Refused webhook deliveries are counted and shown in the console (reason, source address, time),
without letting unauthenticated requests fill a table."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from accounts.tests.factories import CustomerFactory
from focusedroom.testing import run_in_parallel
from integrations.models import WebhookLog, WebhookRefusal
from integrations.webhooks import customerio_sign, webhook_refusal_record

SECRET = "whsec-test"
BODY = json.dumps({"event_id": "e1", "metric": "unsubscribed", "data": {"customer_id": "1"}}).encode()


def post_cio(*, signature="0" * 64, ts=None, ip="198.51.100.20", forwarded=None):
    headers = {"HTTP_X_CIO_TIMESTAMP": str(int(time.time()) if ts is None else ts), "HTTP_X_CIO_SIGNATURE": signature}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(
        "/api/v1/webhooks/customerio/", data=BODY, content_type="application/json", REMOTE_ADDR=ip, **headers
    )


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.CUSTOMERIO_WEBHOOK_SIGNING_SECRET = SECRET
    settings.KIT_WEBHOOK_SECRET = SECRET


@pytest.mark.django_db
class TestRefusals:
    def test_each_refusal_is_counted_by_reason_address_and_hour(self):
        for _ in range(3):
            assert post_cio().status_code == 401
        assert post_cio(ts=1).status_code == 401
        assert post_cio(ip="198.51.100.21").status_code == 401
        rows = {(r.reason, r.source_address): r for r in WebhookRefusal.objects.all()}
        assert rows[("bad_signature", "198.51.100.20")].count == 3
        assert rows[("bad_timestamp", "198.51.100.20")].count == 1
        assert rows[("bad_signature", "198.51.100.21")].count == 1
        row = rows[("bad_signature", "198.51.100.20")]
        assert row.hour.minute == 0 and row.first_seen_at <= row.last_seen_at and "does not match" in row.last_message
        assert not WebhookLog.objects.exists()  # nothing of the refused bodies is kept

    def test_a_missing_secret_is_its_own_reason(self, settings):
        settings.KIT_WEBHOOK_SECRET = ""
        Client().post("/api/v1/webhooks/kit/", data=b"{}", content_type="application/json", HTTP_X_KIT_SIGNATURE="t=1")
        assert WebhookRefusal.objects.get().reason == "not_configured"

    def test_the_source_address_comes_from_configured_proxies_only(self, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        post_cio(ip="10.0.0.5", forwarded="6.6.6.6")
        assert WebhookRefusal.objects.get().source_address == "10.0.0.5"

    def test_rotating_addresses_cannot_fill_the_table(self, monkeypatch):
        monkeypatch.setattr(WebhookRefusal, "MAX_ADDRESSES_PER_HOUR", 3)
        for i in range(10):
            webhook_refusal_record(source="kit", reason="bad_signature", message="x", source_address=f"10.0.0.{i}")
        assert WebhookRefusal.objects.count() == 4
        assert WebhookRefusal.objects.get(source_address="").count == 7

    def test_the_console_lists_refusals(self, admin_user):
        post_cio()
        client = Client()
        client.force_login(admin_user)
        page = client.get("/admin/integrations/webhookrefusal/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "198.51.100.20" in html and "Signature does not match" in html

    def test_a_valid_delivery_is_not_a_refusal(self):
        person = CustomerFactory(marketing_opt_in=True)
        body = json.dumps(
            {"event_id": "ok", "metric": "unsubscribed", "data": {"customer_id": str(person.pk)}}
        ).encode()
        ts = int(time.time())
        response = Client().post(
            "/api/v1/webhooks/customerio/",
            data=body,
            content_type="application/json",
            HTTP_X_CIO_TIMESTAMP=str(ts),
            HTTP_X_CIO_SIGNATURE=customerio_sign(secret=SECRET, timestamp=ts, body=body),
        )
        assert response.status_code == 200 and not WebhookRefusal.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_refusals_are_all_counted():
    ok, errors = run_in_parallel(
        6,
        lambda i: webhook_refusal_record(source="kit", reason="bad_signature", message="x", source_address="10.9.9.9"),
    )
    assert errors == []
    assert WebhookRefusal.objects.get().count == 6
