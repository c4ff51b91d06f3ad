"""Worker middleware of the task engine: every failed job run is recorded with its error.

Installed for every worker through ``PROCRASTINATE_WORKER_DEFAULTS["worker_middleware"]``.
The failure is written on its own connection (in a thread) and the exception goes on to
procrastinate, which marks the job failed or schedules its retry.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async

logger = logging.getLogger(__name__)


def task_failure_record(*, job_id: int, task_name: str, queue_name: str, attempt: int, error: str) -> None:
    """Store one failed run (once per job and attempt)."""
    from django.db import connections

    from focusedroom.models import TaskFailure

    try:
        TaskFailure.objects.get_or_create(
            job_id=job_id,
            attempt=attempt,
            defaults={"task_name": task_name, "queue_name": queue_name, "error": error[:4000]},
        )
    except Exception:  # never hide the job's own failure behind the bookkeeping's
        logger.exception("could not record the failure of job %s", job_id)
    finally:
        connections.close_all()


async def record_failures(call_next, context, worker):
    try:
        return await call_next()
    except Exception as exc:
        job = context.job
        await sync_to_async(task_failure_record, thread_sensitive=False)(
            job_id=job.id,
            task_name=job.task_name,
            queue_name=job.queue,
            attempt=(job.attempts or 0) + 1,
            error=f"{exc.__class__.__name__}: {exc}",
        )
        raise
