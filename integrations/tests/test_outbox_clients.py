"""The Customer.io and Kit clients against the local fake servers (no database)."""

from __future__ import annotations

import base64
import time

import pytest

from integrations.customerio import CustomerIOClient
from integrations.fakes import FakeCustomerIO, FakeKit
from integrations.http import DeliveryError
from integrations.kit import KitClient


@pytest.fixture
def fast_timeout(settings):
    settings.INTEGRATIONS_HTTP_TIMEOUT = 0.3


def test_customerio_identify_event_delete_speak_the_track_api(fast_timeout):
    with FakeCustomerIO(site_id="s", api_key="k") as fake:
        client = CustomerIOClient(site_id="s", api_key="k", base_url=fake.url)
        client.identify(customer_id="42", attributes={"email": "a@example.com"})
        client.track(customer_id="42", name="gems_earned", data={"amount": 5})
        client.track_anonymous(name="budget_alert", data={"threshold": 80})
        client.delete(customer_id="42")
    methods_paths = [(r.method, r.path) for r in fake.requests]
    assert methods_paths == [
        ("PUT", "/customers/42"),
        ("POST", "/customers/42/events"),
        ("POST", "/events"),
        ("DELETE", "/customers/42"),
    ]
    assert fake.requests[0].headers["Authorization"] == "Basic " + base64.b64encode(b"s:k").decode()
    assert fake.requests[1].body == {"name": "gems_earned", "data": {"amount": 5}}
    assert fake.events[0] == ("42", "gems_earned", {"amount": 5})


@pytest.mark.parametrize(
    ("answer", "retryable", "status"), [(429, True, 429), (500, True, 500), (503, True, 503), (400, False, 400)]
)
def test_customerio_error_answers_are_classified(fast_timeout, answer, retryable, status):
    with FakeCustomerIO() as fake:
        fake.script(answer)
        client = CustomerIOClient(site_id="site-id", api_key="api-key", base_url=fake.url)
        with pytest.raises(DeliveryError) as caught:
            client.track(customer_id="1", name="x", data={})
    assert caught.value.retryable is retryable
    assert caught.value.status == status


def test_wrong_credentials_are_a_permanent_failure(fast_timeout):
    with FakeCustomerIO(site_id="s", api_key="right") as fake:
        client = CustomerIOClient(site_id="s", api_key="wrong", base_url=fake.url)
        with pytest.raises(DeliveryError) as caught:
            client.identify(customer_id="1", attributes={})
    assert caught.value.status == 401
    assert caught.value.retryable is False


def test_a_hanging_server_times_out_and_is_retryable(fast_timeout):
    with FakeCustomerIO() as fake:
        fake.script("hang")
        client = CustomerIOClient(site_id="site-id", api_key="api-key", base_url=fake.url)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as caught:
            client.track(customer_id="1", name="x", data={})
        elapsed = time.monotonic() - started
    assert caught.value.retryable is True
    assert "timed out" in caught.value.message
    assert elapsed < 2


def test_an_unreachable_server_is_retryable(fast_timeout):
    fake = FakeCustomerIO()
    url = fake.url
    fake.stop()  # port closed: connection refused
    client = CustomerIOClient(site_id="site-id", api_key="api-key", base_url=url)
    with pytest.raises(DeliveryError) as caught:
        client.track(customer_id="1", name="x", data={})
    assert caught.value.retryable is True


def test_kit_upsert_returns_the_same_id_for_the_same_email(fast_timeout):
    with FakeKit(api_key="kk") as fake:
        client = KitClient(api_key="kk", base_url=fake.url)
        first = client.upsert_subscriber(email="ann@example.com", first_name="Ann")
        again = client.upsert_subscriber(email="ann@example.com")
        client.unsubscribe(subscriber_id=first)
    assert first == again
    assert fake.requests[0].headers["X-Kit-Api-Key"] == "kk"
    assert fake.requests[0].body == {"email_address": "ann@example.com", "state": "active", "first_name": "Ann"}
    assert fake.requests[2].path == f"/v4/subscribers/{first}/unsubscribe"
    assert fake.subscribers["ann@example.com"]["state"] == "cancelled"


def test_kit_refuses_a_wrong_key(fast_timeout):
    with FakeKit(api_key="kk") as fake:
        client = KitClient(api_key="nope", base_url=fake.url)
        with pytest.raises(DeliveryError) as caught:
            client.upsert_subscriber(email="ann@example.com")
    assert caught.value.status == 401 and not caught.value.retryable
