"""The task engine: a deferred job exists only if its transaction commits, and a worker runs it."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from focusedroom import tasks

RAN: list[int] = []


@app.task(name="focusedroom.tests.record", queue="tests")
def record(*, value: int) -> None:
    RAN.append(value)


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()


def test_a_job_deferred_in_a_committed_transaction_is_run_by_a_worker(task_queue):
    with transaction.atomic():
        tasks.defer("focusedroom.tests.record", value=7)
    assert ProcrastinateJob.objects.filter(task_name="focusedroom.tests.record", status="todo").count() == 1
    tasks.run_jobs(queues=["tests"])
    assert RAN == [7]
    assert ProcrastinateJob.objects.get(task_name="focusedroom.tests.record").status == "succeeded"


def test_a_job_deferred_in_a_rolled_back_transaction_does_not_exist(task_queue):
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.defer("focusedroom.tests.record", value=1)
        raise RuntimeError("the change fails")
    assert not ProcrastinateJob.objects.filter(task_name="focusedroom.tests.record").exists()
    tasks.run_jobs(queues=["tests"])
    assert RAN == []


def test_a_queueing_lock_keeps_one_waiting_job(task_queue):
    tasks.defer("focusedroom.tests.record", queueing_lock="one", value=1)
    with pytest.raises(Exception, match="queueing"):
        tasks.defer("focusedroom.tests.record", queueing_lock="one", value=2)
    assert ProcrastinateJob.objects.filter(task_name="focusedroom.tests.record").count() == 1


def test_defer_once_finds_the_waiting_job_without_a_failed_insert(task_queue):
    assert tasks.defer_once("focusedroom.tests.record", queueing_lock="one", value=1) is True
    with CaptureQueriesContext(connection) as queries:
        assert tasks.defer_once("focusedroom.tests.record", queueing_lock="one", value=2) is False
    assert len(queries) == 1 and "procrastinate_jobs" in queries[0]["sql"]  # one read: no savepoint, no insert
    ProcrastinateJob.objects.filter(queueing_lock="one").update(status="doing")  # the job has started
    assert tasks.defer_once("focusedroom.tests.record", queueing_lock="one", value=3) is True
    assert sorted(ProcrastinateJob.objects.values_list("args__value", flat=True)) == [1, 3]


def test_defer_once_racing_another_transaction_is_refused_by_the_insert(task_queue):
    """Both transactions find no waiting job; the second's insert waits for the first to commit, is refused
    by the unique index, and leaves its transaction usable."""
    connection.ensure_connection()
    this_pid = connection.connection.info.backend_pid
    holding = threading.Event()
    saw_the_insert_wait: list[bool] = []

    def other() -> None:
        try:
            with transaction.atomic():
                assert tasks.defer_once("focusedroom.tests.record", queueing_lock="race", value=1) is True
                holding.set()
                # Commit only once the test's insert waits for this transaction's row (a lock not granted).
                with connection.cursor() as cursor:
                    for _ in range(1000):
                        cursor.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [this_pid])
                        if cursor.fetchone():
                            saw_the_insert_wait.append(True)
                            break
                        time.sleep(0.01)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic():
            assert tasks.defer_once("focusedroom.tests.record", queueing_lock="race", value=2) is False
            assert ProcrastinateJob.objects.filter(queueing_lock="race").count() == 1  # still usable
    finally:
        thread.join(20)
    assert saw_the_insert_wait == [True]  # refused by the insert, not by the look-up
    assert list(ProcrastinateJob.objects.values_list("args__value", flat=True)) == [1]


@pytest.mark.django_db
def test_eager_mode_runs_the_task_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.defer("focusedroom.tests.record", value=3)
        assert RAN == []
    assert RAN == [3]


def test_a_drain_defers_no_periodic_job(task_queue):
    """A worker's deferrer queues the period that just began (every minute for retry_stalled_jobs, 03:40
    for remove_old_jobs): a drain must not, or what it does would depend on the time of day."""
    tasks.defer("focusedroom.tests.record", value=1)
    for _ in range(3):
        tasks.run_jobs(queues=["tests"])
    assert set(ProcrastinateJob.objects.values_list("task_name", flat=True)) == {"focusedroom.tests.record"}


def test_old_finished_jobs_leave_the_queue_table_and_failed_ones_stay_longer(task_queue):
    from django.db import connection

    tasks.defer("focusedroom.tests.record", value=1)
    tasks.defer("focusedroom.tests.record", value=2)
    tasks.run_jobs(queues=["tests"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'value' = '2'")
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - interval '10 days' WHERE job_id IN (SELECT id FROM procrastinate_jobs)"
        )
    tasks.defer("focusedroom.remove_old_jobs", timestamp=0)
    tasks.run_jobs(queues=["maintenance"])
    remaining = set(
        ProcrastinateJob.objects.filter(task_name="focusedroom.tests.record").values_list("status", flat=True)
    )
    assert remaining == {"failed"}  # the finished one went after 7 days; the failed one stays 30
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - interval '31 days' WHERE job_id IN (SELECT id FROM procrastinate_jobs)"
        )
    tasks.defer("focusedroom.remove_old_jobs", timestamp=1)
    tasks.run_jobs(queues=["maintenance"])
    assert not ProcrastinateJob.objects.filter(task_name="focusedroom.tests.record").exists()
