"""Background work on the task engine: periodic jobs declared in code, run once per period
whatever the number of workers, and a worker killed mid-delivery that loses nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.db import connection, transaction
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.tests.factories import CustomerFactory
from focusedroom import tasks
from focusedroom.embedded_db import database_url_for
from focusedroom.processes import child_env, start_worker
from integrations import services as integrations
from integrations.models import OutboxMessage
from integrations.tests import fixtures as integration_fixtures
from rewards.models import AuditRun

cio = integration_fixtures.cio
default_brand = integration_fixtures.default_brand

LEASE = 6  # seconds; at least twice the HTTP timeout plus one

SCHEDULES = {
    "focusedroom.retry_stalled_jobs": "* * * * *",
    "focusedroom.remove_old_jobs": "40 3 * * *",
    "integrations.sweep_outbox": "* * * * *",
    "integrations.compute_ai_profiles": "30 2 * * *",
    "rewards.audit": "0 3 * * *",
    "rewards.expire_referrals": "10 * * * *",
    "profiles.check_budgets": "*/15 * * * *",
}


def test_every_periodic_job_is_declared_with_its_schedule_and_a_queueing_lock():
    declared = {p.task.name: p for p in app.periodic_registry.periodic_tasks.values()}
    assert {name: p.cron for name, p in declared.items() if name in SCHEDULES} == SCHEDULES
    for name in SCHEDULES:
        assert declared[name].task.queueing_lock == name, name  # a slow run never piles up a second one


def test_two_workers_defer_a_nightly_period_once_and_each_job_runs(task_queue):
    at_three = int(datetime(2026, 11, 30, 3, 0, tzinfo=UTC).timestamp())
    first = tasks.defer_periodic(timestamp=at_three)
    second = tasks.defer_periodic(timestamp=at_three)  # another worker's deferrer, same period
    assert first == second
    assert set(first) == {
        "focusedroom.retry_stalled_jobs",
        "integrations.sweep_outbox",
        "rewards.audit",
        "profiles.check_budgets",
    }
    jobs = ProcrastinateJob.objects.filter(task_name__in=first)
    assert sorted(jobs.values_list("task_name", flat=True)) == sorted(first)  # one job each
    audits_before = AuditRun.objects.count()
    tasks.run_jobs()
    assert set(jobs.values_list("status", flat=True)) == {"succeeded"}
    assert AuditRun.objects.count() == audits_before + 1


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(task_queue, cio, tmp_path, settings):
    """SIGKILL while the provider holds its answer: the request took effect, the worker never knew.

    The restarted worker's stalled-job recovery puts the dead worker's job back in the queue; the
    rows' leases expire; they are sent again with the same idempotency keys; the provider applies
    each key once.
    """
    people = [CustomerFactory(marketing_opt_in=True) for _ in range(4)]
    with transaction.atomic():
        for n in range(20):
            integrations.outbox_event(user=people[n % 4], name="gems_earned", data={"n": n})
    messages = OutboxMessage.objects.all()
    assert ProcrastinateJob.objects.filter(task_name="integrations.deliver_outbox", status="todo").count() == 1
    env = child_env(
        database_url=database_url_for(connection.settings_dict),
        CUSTOMERIO_TRACK_URL=cio.url,
        INTEGRATIONS_HTTP_TIMEOUT=2,
        OUTBOX_LEASE_SECONDS=LEASE,
        TASKS_HEARTBEAT_SECONDS=0.5,
        TASKS_STALLED_SECONDS=2,
    )
    cio.reply_delay = 60  # the first request is applied, then its answer waits (the client gives up after 2 s)
    first = start_worker(name="worker-1", env=env, log_dir=tmp_path, queues="outbox,maintenance")
    try:
        deadline = time.monotonic() + 60
        while not cio.applied_keys and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cio.applied_keys, first.output()[-3000:]
    finally:
        first.kill()
    cio.reply_delay = 0
    job = ProcrastinateJob.objects.get(task_name="integrations.deliver_outbox")
    assert job.status == "doing"  # the dead worker's job
    assert messages.filter(status=OutboxMessage.Status.PROCESSING).count() == 20  # claimed, leased
    time.sleep(LEASE + 0.5)  # the dead worker's heartbeat is older than TASKS_STALLED_SECONDS, its lease expired
    # as the every-minute schedule does (the dead worker may have deferred this minute's run already)
    tasks.defer_once("focusedroom.retry_stalled_jobs", queueing_lock="focusedroom.retry_stalled_jobs", timestamp=0)
    second = start_worker(name="worker-2", env=env, log_dir=tmp_path, queues="outbox,maintenance")
    try:
        deadline = time.monotonic() + 60
        while messages.exclude(status=OutboxMessage.Status.SENT).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        second.stop()
    assert not messages.exclude(status=OutboxMessage.Status.SENT).exists(), second.output()[-3000:]
    keys = {m.idempotency_key for m in messages}
    assert set(cio.applied_keys) == keys
    assert set(cio.applied_keys.values()) == {1}  # exactly once per idempotency key
    assert sum(cio.replayed_keys.values()) == 1  # the request the dead worker never heard back from
    assert sorted(data["n"] for _, _, data in cio.events) == list(range(20))
    job = ProcrastinateJob.objects.get(task_name="integrations.deliver_outbox")
    assert job.status == "succeeded"
