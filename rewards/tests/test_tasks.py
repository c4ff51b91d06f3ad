"""The periodic tasks run the expiry and release services through the real task engine."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from focusedroom import tasks
from rewards import services
from rewards.models import LedgerEntry, PendingCredit, Wallet


def test_the_periodic_tasks_are_declared():
    periodic = {p.task.name: p.cron for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["rewards.expire_gems"] == "7 * * * *"
    assert periodic["rewards.release_pending_gems"] == "17 * * * *"
    assert "rewards.expire_referrals" in periodic


@pytest.mark.usefixtures("task_queue")
def test_a_worker_expires_due_lots_and_releases_due_pending_gems(make_member, default_brand, product):
    default_brand.settings = {
        "rewards": {"expiry": {"rule": "rolling", "months": 1}, "pending_days": {"product_scan": 2}, "welcome": 0}
    }
    default_brand.save()
    member = make_member()
    lot = services.gems_credit(user=member, amount=30, reason="adjustment", idempotency_key="lot")
    services.product_scan(user=member, sku=product.sku)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=32)):
        tasks.defer("rewards.expire_gems", timestamp=0)
        tasks.defer("rewards.release_pending_gems", timestamp=0)
        tasks.run_jobs(queues=["rewards"])
    # (the expiry warning's outbox row woke a delivery job on the outbox queue, not drained here)
    assert set(ProcrastinateJob.objects.filter(queue_name="rewards").values_list("status", flat=True)) == {"succeeded"}
    assert LedgerEntry.objects.get(reason="expiry").lot_id == lot.pk
    assert PendingCredit.objects.get(user=member).status == "released"
    assert Wallet.objects.get(user=member).balance == 40  # the scan's 40 gems, released after the lot expired
