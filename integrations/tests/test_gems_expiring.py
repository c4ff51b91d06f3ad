"""The warning that gems expire reaches Customer.io through the outbox, once per lot, consent or not."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.tests.factories import CustomerFactory
from integrations.models import OutboxMessage
from rewards import services

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


@pytest.mark.django_db
def test_the_expiry_warning_is_one_transactional_outbox_event_per_lot():
    brand = services.brand_default()
    brand.settings = {"rewards": {"expiry": {"rule": "rolling", "months": 1}, "welcome": 0}}
    brand.save()
    person = CustomerFactory(marketing_opt_in=False)  # a notice about their own balance, not marketing
    with mock.patch("django.utils.timezone.now", return_value=T0):
        lot = services.gems_credit(user=person, amount=70, reason="adjustment", idempotency_key="lot")
    for hours in (0, 2, 30):
        with mock.patch("django.utils.timezone.now", return_value=lot.expires_at - timedelta(days=14, hours=-hours)):
            services.lots_expire()
    rows = OutboxMessage.objects.filter(user=person, event_name="gems_expiring")
    assert rows.count() == 1
    row = rows.get()
    assert not row.is_marketing and row.event_data["amount"] == 70
    assert row.event_data["lots"] == [{"lot_id": lot.pk, "amount": 70, "expires_at": row.event_data["expires_at"]}]
    assert row.event_data["expires_at"].startswith(lot.expires_at.date().isoformat())
    assert not OutboxMessage.objects.filter(user=person, event_name="gems_earned").exists()  # marketing: no consent
