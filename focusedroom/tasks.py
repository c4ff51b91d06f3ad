"""The task engine: procrastinate on FocusedRoom's own PostgreSQL.

Apps declare their background work in ``<app>/tasks.py`` (discovered at start-up)::

    from procrastinate.contrib.django import app

    @app.task(name="integrations.deliver_outbox", queue="outbox", retry=RETRY)
    def deliver_outbox(*, message_id: int) -> None:
        outbox_deliver(message_id=message_id)      # thin: a service does the work

and hand work to it with :func:`defer`, by task name, so a service never imports its own
``tasks`` module (which imports the services). A job deferred inside a transaction is a row
written in that transaction: it exists only if the change it follows commits.

``TASKS_EAGER = True`` (the test suite) runs the task in the calling thread when the
transaction commits, so tests see its effects at once; tests of the engine itself defer for
real and drain the queue with :func:`run_jobs`. Workers: ``manage.py procrastinate worker``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from procrastinate.contrib.django import app


def defer(task_name: str, /, *, queueing_lock: str | None = None, lock: str | None = None, **kwargs: Any) -> None:
    """Queue ``task_name`` with ``kwargs`` in the current transaction (see the module docstring)."""
    task = app.tasks[task_name]
    if settings.TASKS_EAGER:
        transaction.on_commit(lambda: task(**kwargs))
        return
    options: dict[str, Any] = {}
    if queueing_lock:
        options["queueing_lock"] = queueing_lock
    if lock:
        options["lock"] = lock
    task.configure(**options).defer(**kwargs)


def run_jobs(*, queues: list[str] | None = None) -> None:
    """Run every job that is due, then return (tests, and ``make`` targets that drain a queue)."""
    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        worker_app.run_worker(queues=queues, wait=False, install_signal_handlers=False, listen_notify=False)
