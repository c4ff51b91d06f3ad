"""The task engine: procrastinate on FocusedRoom's own PostgreSQL.

Apps declare their background work in ``<app>/tasks.py`` (discovered at start-up)::

    from procrastinate.contrib.django import app

    @app.task(name="integrations.deliver_outbox", queue="outbox", retry=RETRY)
    def deliver_outbox(*, message_id: int) -> None:
        outbox_deliver(message_id=message_id)      # thin: a service does the work

and hand work to it with :func:`defer`, by task name, so a service never imports its own
``tasks`` module (which imports the services). A job deferred inside a transaction is a row
written in that transaction: it exists only if the change it follows commits — also when a running
job defers another (the row goes through Django's connection, never the worker's own pool).

``TASKS_EAGER = True`` (the test suite) runs the task in the calling thread when the
transaction commits, so tests see its effects at once; tests of the engine itself defer for
real and drain the queue with :func:`run_jobs`. Workers: ``manage.py procrastinate worker``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.manager import JobManager
from procrastinate.tasks import configure_task

# Jobs are always written through Django's connection, also from inside a running job: a worker's
# own connector (a psycopg pool) would commit the job at once, outside the task's transaction.
_in_transaction = JobManager(connector=DjangoConnector())


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


def run_jobs(*, queues: list[str] | None = None) -> None:
    """Run every job that is due, then return (tests, and ``make`` targets that drain a queue)."""
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(queues=queues, wait=False, install_signal_handlers=False, listen_notify=False)


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
