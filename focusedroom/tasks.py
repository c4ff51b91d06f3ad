"""The task engine: procrastinate on FocusedRoom's own PostgreSQL.

Apps declare their background work in ``<app>/tasks.py`` (discovered at start-up)::

    from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app

    @app.task(name="integrations.deliver_outbox", queue="outbox", retry=RETRY)
    def deliver_outbox(*, message_id: int) -> None:
        outbox_deliver(message_id=message_id)      # thin: a service does the work

and hand work to it with :func:`defer`, by task name, so a service never imports its own
``tasks`` module (which imports the services). A job deferred inside a transaction is a row
written in that transaction: it exists only if the change it follows commits — also when a running
job defers another (the row goes through Django's connection, never the worker's own pool).

:func:`defer_once` queues a job unless one with the same queueing lock is already waiting: a burst of
changes (a thousand outbox rows in one minute) wakes one job, not a thousand.

Periodic jobs are declared beside their task with their schedule (``@app.periodic(cron=...)``) and
run by any worker: procrastinate records each period's defer (``procrastinate_periodic_defers``,
unique per task and timestamp), so N workers defer a period once, and a queueing lock per periodic
task keeps a slow run from piling up a second one. No crontab. A worker that dies (SIGKILL, lost
machine) stops beating; after ``TASKS_STALLED_SECONDS`` the periodic
``focusedroom.retry_stalled_jobs`` puts its jobs back in the queue (procrastinate's stalled-job
recovery), which is why every task must be idempotent.

``TASKS_EAGER = True`` (the test suite) runs the task in the calling thread when the
transaction commits, so tests see its effects at once; tests of the engine itself defer for
real and drain the queue with :func:`run_jobs`. Workers: ``manage.py procrastinate worker``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from procrastinate import RetryStrategy
from procrastinate import exceptions as procrastinate_exceptions
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.manager import JobManager
from procrastinate.tasks import configure_task

# Jobs are always written through Django's connection, also from inside a running job: a worker's
# own connector (a psycopg pool) would commit the job at once, outside the task's transaction.
_in_transaction = JobManager(connector=DjangoConnector())

logger = logging.getLogger(__name__)


def defer(task_name: str, /, *, queueing_lock: str | None = None, lock: str | None = None, **kwargs: Any) -> None:
    """Queue ``task_name`` with ``kwargs`` in the current transaction (see the module docstring)."""
    task = app.tasks[task_name]
    if settings.TASKS_EAGER:
        transaction.on_commit(lambda: task(**kwargs))
        return
    configure_task(
        name=task.name,
        job_manager=_in_transaction,
        lock=lock or task.lock,
        queueing_lock=queueing_lock or task.queueing_lock,
        queue=task.queue,
        priority=task.priority,
    ).defer(**kwargs)


def defer_once(task_name: str, /, *, queueing_lock: str, **kwargs: Any) -> bool:
    """Queue ``task_name`` unless a job holding ``queueing_lock`` is already waiting; True if queued.

    A waiting job is looked for first; the insert (when none was seen, or one is being queued at the
    same moment) runs in a savepoint, so a refusal leaves the caller's transaction usable. In eager
    mode the task runs once at commit however many times the transaction asked for it.
    """
    if settings.TASKS_EAGER:
        connection = transaction.get_connection()
        if any(getattr(fn, "queueing_lock", None) == queueing_lock for _, fn, _ in connection.run_on_commit):
            return False
        task = app.tasks[task_name]

        def run() -> None:
            task(**kwargs)

        run.queueing_lock = queueing_lock  # type: ignore[attr-defined]
        transaction.on_commit(run)
        return True
    from procrastinate.contrib.django.models import ProcrastinateJob

    task = app.tasks[task_name]
    # Usually a job holding the lock is already waiting (a burst of changes): one read of procrastinate's
    # unique index of waiting jobs' locks says so, where the insert would fail — a savepoint rolled back
    # and an ERROR in the database's log per call.
    if ProcrastinateJob.objects.filter(queueing_lock=queueing_lock, status="todo").exists():
        return False
    try:
        with transaction.atomic():
            configure_task(
                name=task.name,
                job_manager=_in_transaction,
                lock=task.lock,
                queueing_lock=queueing_lock,
                queue=task.queue,
                priority=task.priority,
            ).defer(**kwargs)
    except procrastinate_exceptions.AlreadyEnqueued:
        return False
    return True


@app.periodic(cron="* * * * *", periodic_id="every-minute")
@app.task(name="focusedroom.retry_stalled_jobs", queue="maintenance", queueing_lock="focusedroom.retry_stalled_jobs")
async def retry_stalled_jobs(*, timestamp: int = 0) -> int:
    """Jobs of workers that stopped beating for ``TASKS_STALLED_SECONDS`` go back to the queue."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.TASKS_STALLED_SECONDS)
    count = 0
    for job in stalled:
        await app.job_manager.retry_job(job)
        count += 1
    return count


@app.periodic(cron="40 3 * * *", periodic_id="nightly")
@app.task(name="focusedroom.remove_old_jobs", queue="maintenance", queueing_lock="focusedroom.remove_old_jobs")
async def remove_old_jobs(*, timestamp: int = 0) -> None:
    """Finished jobs leave the queue table after ``TASKS_KEEP_FINISHED_DAYS``, failed ones (shown in the
    console until then) after ``TASKS_KEEP_FAILED_DAYS``: their arguments may name a person."""
    await app.job_manager.delete_old_jobs(
        nb_hours=24 * settings.TASKS_KEEP_FINISHED_DAYS, include_cancelled=True, include_aborted=True
    )
    await app.job_manager.delete_old_jobs(nb_hours=24 * settings.TASKS_KEEP_FAILED_DAYS, include_failed=True)


def run_jobs(*, queues: list[str] | None = None) -> None:
    """Run every job that is due, then return (tests, and ``make`` targets that drain a queue).

    The drain defers no periodic job (a worker's deferrer would queue whatever period just began,
    so what a drain does would depend on the time of day); ``defer_periodic`` does that on purpose."""
    from procrastinate.periodic import PeriodicRegistry

    def drain() -> None:
        with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
            registry, worker_app.periodic_registry = worker_app.periodic_registry, PeriodicRegistry()
            try:
                worker_app.run_worker(queues=queues, wait=False, install_signal_handlers=False, listen_notify=False)
            finally:
                worker_app.periodic_registry = registry

    _in_own_thread(drain)


def _in_own_thread(fn: Callable[[], object]) -> None:
    """Run ``fn`` (which starts an event loop) in a thread of its own, so it works whether or not the
    caller's thread already runs a loop (a browser driver's, in the test suite); its exception is raised here."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="fr-task-drain")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# ------------------------------------------------------------------------- the plumbing's own tasks

EMAIL_RETRY = RetryStrategy(max_attempts=8, exponential_wait=5)  # SMTP down: 5 s, 25 s, 125 s … about a day in all


@app.task(name="focusedroom.send_email", queue="email", retry=EMAIL_RETRY)
def send_email(*, message: str) -> None:
    """Send one sealed message (``focusedroom.email.deliver_later``)."""
    from focusedroom.email import send_sealed

    send_sealed(message=message)


@app.periodic(cron="17 3 * * *", periodic_id="focusedroom.prune_delivery_receipts")
@app.task(name="focusedroom.prune_delivery_receipts", queue="maintenance")
def prune_delivery_receipts(timestamp: int) -> None:
    """Receipts of background announcements outlive any retry of their job (``focusedroom.delivery``)."""
    from focusedroom.delivery import receipts_prune

    receipts_prune(older_than_days=settings.DELIVERY_RECEIPT_DAYS)


def defer_periodic(*, timestamp: int) -> list[str]:
    """Defer the periodic jobs due at ``timestamp`` exactly as a worker's deferrer does (tests, ops).

    Deferring the same period again — a second worker — defers nothing more. Returns the task names.
    """
    import asyncio

    from procrastinate.periodic import PeriodicDeferrer

    deferrer = PeriodicDeferrer(registry=app.periodic_registry)
    due = [
        (periodic_task, timestamp)
        for periodic_task in app.periodic_registry.periodic_tasks.values()
        if periodic_task.croniter.match(periodic_task.cron, _utc(timestamp))
    ]

    async def go() -> None:
        async with app.open_async():
            await deferrer.defer_jobs(due)

    def run() -> None:
        with app.replace_connector(app.connector.get_worker_connector()):
            asyncio.run(go())

    _in_own_thread(run)
    return sorted(periodic_task.task.name for periodic_task, _ in due)


def _utc(timestamp: int):
    from datetime import datetime

    return datetime.fromtimestamp(timestamp, tz=UTC)


def job_retry(*, job_id: int, actor: Any) -> int:
    """Queue a failed job again (same task, same arguments) for a staff member; returns the new job's id.

    The failed job stays as it was (its history); the new job runs like any other, so the task's own
    idempotency is what makes a retry safe.
    """
    import logging

    from procrastinate.contrib.django.models import ProcrastinateJob

    from focusedroom.errors import ApplicationError

    job = ProcrastinateJob.objects.filter(pk=job_id).first()
    if job is None or job.status != "failed":
        raise ApplicationError("Only a failed job can be retried.", fields={"job_id": ["Not a failed job."]})
    if job.task_name not in app.tasks:
        raise ApplicationError(f"No task is declared as {job.task_name!r} any more.")
    with transaction.atomic():
        new_id = (
            app.tasks[job.task_name].configure(queue=job.queue_name, priority=job.priority).defer(**(job.args or {}))
        )
    logging.getLogger(__name__).info("job %s (%s) retried as job %s by %s", job_id, job.task_name, new_id, actor)
    return new_id


# ------------------------------------------------------------------------ partition maintenance


@app.periodic(cron="17 3 * * *", queueing_lock="focusedroom.partitions_maintain")
@app.task(name="focusedroom.partitions_maintain", queue="maintenance", pass_context=False)
def partitions_maintain(timestamp: int) -> None:
    """Daily: the months ahead of every partitioned table exist, and each table's retention ran.

    Thin: ``focusedroom.partitions.partitions_maintain`` does the work (idempotent; an advisory lock
    per table keeps two workers from racing, the queueing lock keeps one job per run queued).
    """
    from focusedroom.partitions import partitions_maintain as maintain

    report = maintain()
    logger.info("partition maintenance: created %s, retention %s", report.created, report.retention)
