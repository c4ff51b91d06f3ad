"""Operator console: outbox monitor, webhook log, AI profiles."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import CustomerFactory
from integrations import services
from integrations.models import AIProfile, OutboxMessage, WebhookLog
from integrations.tests import fixtures as integration_fixtures

# Shared fixtures (pytest finds fixtures by name in the module).
default_brand = integration_fixtures.default_brand


@pytest.fixture
def admin_client(db):
    admin = User.objects.create_superuser(email="root@focusedroom.local", password="x-password-42")
    client = Client()
    client.force_login(admin)
    return client


def fill(rows: int) -> None:
    for n in range(rows):
        person = CustomerFactory()
        services.outbox_identify(user=person)
        OutboxMessage.objects.create(
            user=person, event_name="gems_earned", status="failed", last_error=f"HTTP 400 #{n}"
        )
        WebhookLog.objects.create(
            source="customerio", webhook_type="bounced", event_id=f"e{n}", user=person, processed_successfully=True
        )
        AIProfile.objects.create(user=person, churn_probability="0.8", recommended_segment="at_risk")


@pytest.mark.parametrize(
    "url", ["/admin/integrations/outboxmessage/", "/admin/integrations/webhooklog/", "/admin/integrations/aiprofile/"]
)
@pytest.mark.parametrize("rows", [2, 25])
def test_changelists_have_a_fixed_query_budget(admin_client, default_brand, django_assert_max_num_queries, url, rows):
    fill(rows)
    # The outbox monitor's 9th query is the estimated-count paginator's EXPLAIN (ReadOnlyAdmin).
    with django_assert_max_num_queries(9):
        response = admin_client.get(url)
    assert response.status_code == 200


def test_outbox_monitor_shows_counts_waiting_reasons_and_failures(admin_client, default_brand):
    fill(2)
    page = admin_client.get("/admin/integrations/outboxmessage/").content.decode()
    assert "Outbox health" in page
    assert "has no Customer.io site id and API key" in page
    assert "no Customer.io credentials for its brand" in page
    assert "HTTP 400 #1" in page


def test_retry_action_requeues_failed_rows(admin_client, default_brand):
    fill(2)
    failed = list(OutboxMessage.objects.filter(status="failed").values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/integrations/outboxmessage/",
        {"action": "retry_failed", "_selected_action": failed},
        follow=True,
    )
    assert response.status_code == 200
    assert not OutboxMessage.objects.filter(status="failed").exists()
    assert "2 failed message(s) queued again" in response.content.decode()


@pytest.mark.parametrize(("band", "count"), [("high", 1), ("medium", 1), ("low", 1)])
def test_ai_profiles_filter_by_churn_band_and_segment(admin_client, band, count):
    for churn in ("0.9", "0.5", "0.1"):
        AIProfile.objects.create(user=CustomerFactory(), churn_probability=churn, recommended_segment="engaged")
    response = admin_client.get(
        "/admin/integrations/aiprofile/", {"churn_risk": band, "recommended_segment": "engaged"}
    )
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count


def test_the_console_is_read_only(admin_client, default_brand):
    fill(1)
    message = OutboxMessage.objects.first()
    page = admin_client.get(f"/admin/integrations/outboxmessage/{message.pk}/change/").content.decode()
    assert 'name="_save"' not in page
