"""Outbox delivery on the task engine: one wake-up job per transaction, the sweep, idempotency keys."""

from __future__ import annotations

import pytest
from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.tests.factories import CustomerFactory
from focusedroom import tasks
from integrations import services
from integrations.models import OutboxMessage, ulid
from integrations.tests import fixtures as integration_fixtures

cio = integration_fixtures.cio
default_brand = integration_fixtures.default_brand

Status = OutboxMessage.Status
pytestmark = pytest.mark.usefixtures("task_queue")


def delivery_jobs(status: str | None = None):
    jobs = ProcrastinateJob.objects.filter(task_name="integrations.deliver_outbox")
    return jobs.filter(status=status) if status else jobs


def test_a_transaction_of_outbox_writes_queues_one_delivery_job_that_delivers_them_all(cio):
    person = CustomerFactory(marketing_opt_in=True)
    with transaction.atomic():
        for n in range(3):
            services.outbox_event(user=person, name="gems_earned", data={"n": n})
        assert not delivery_jobs().exists()  # queued once the rows are committed
    assert delivery_jobs("todo").count() == 1
    tasks.run_jobs(queues=["outbox"])
    assert delivery_jobs().get().status == "succeeded"
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    keys = {m.idempotency_key for m in OutboxMessage.objects.all()}
    assert set(cio.applied_keys) == keys and set(cio.applied_keys.values()) == {1}
    events = [r for r in cio.requests if r.path.endswith("/events")]
    assert sorted(r.body["data"]["n"] for r in events) == [0, 1, 2]
    assert all(r.body["id"] == r.headers["Idempotency-Key"] for r in events)


def test_an_outbox_write_that_rolls_back_leaves_no_job(cio):
    person = CustomerFactory(marketing_opt_in=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.outbox_event(user=person, name="gems_earned", data={"n": 1})
        raise RuntimeError("the change fails")
    assert not delivery_jobs().exists()
    assert not OutboxMessage.objects.filter(event_name="gems_earned").exists()


def test_a_waiting_job_serves_later_writes(cio):
    person = CustomerFactory(marketing_opt_in=True)
    services.outbox_event(user=person, name="gems_earned", data={"n": 1})
    with transaction.atomic():
        services.outbox_event(user=person, name="gems_earned", data={"n": 2})  # the queueing lock refuses a 2nd job
        services.outbox_event(user=person, name="gems_earned", data={"n": 3})
    assert delivery_jobs().count() == 1
    assert OutboxMessage.objects.filter(event_name="gems_earned").count() == 3
    tasks.run_jobs(queues=["outbox"])
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == OutboxMessage.objects.count()


def test_the_sweep_delivers_a_retry_whose_time_has_come(cio):
    person = CustomerFactory(marketing_opt_in=True)
    cio.script(500)
    message = services.outbox_event(user=person, name="gems_earned", data={"n": 1})
    OutboxMessage.objects.exclude(pk=message.pk).delete()
    tasks.run_jobs(queues=["outbox"])
    message.refresh_from_db()
    assert (message.status, message.attempt_count) == (Status.PENDING, 1)  # backoff: next_attempt_at later
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)
    tasks.defer("integrations.sweep_outbox", timestamp=0)
    tasks.run_jobs(queues=["outbox"])
    message.refresh_from_db()
    assert (message.status, message.attempt_count) == (Status.SENT, 2)
    first, second = [r for r in cio.requests if r.path.endswith("/events")]
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == message.idempotency_key


def test_the_idempotency_key_is_a_ulid_of_the_creation_time_and_the_id():
    assert ulid(timestamp_ms=0, entropy=0) == "0" * 26
    # 2023-11-14T22:13:20Z is 01HF7YAT00 as the first ten characters of any ULID generator; 42 is "1A".
    assert ulid(timestamp_ms=1_700_000_000_000, entropy=42) == "01HF7YAT00000000000000001A"


def test_a_transaction_writing_the_outbox_does_not_wait_for_another_one(cio, django_db_blocker):
    """No lock is held across a transaction: a second writer commits while the first is still open."""
    import threading

    from django.db import connection

    person = CustomerFactory(marketing_opt_in=True)
    first_open, second_done = threading.Event(), threading.Event()

    def second() -> None:
        first_open.wait(10)
        services.outbox_event(user=person, name="gems_earned", data={"n": 2})
        second_done.set()
        connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        services.outbox_event(user=person, name="gems_earned", data={"n": 1})
        first_open.set()
        assert second_done.wait(10), "the second writer waited for the first transaction"
    thread.join()
    assert delivery_jobs().count() == 1
