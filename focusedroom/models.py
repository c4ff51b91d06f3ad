"""Plumbing tables: what the task engine does not keep itself.

``TaskFailure`` (table ``task_failure``) records each failed run of a background job with its
error, written by the worker (``focusedroom.task_middleware``): procrastinate keeps a job's
status and events, not the exception. The console's "Background work" page lists them.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class TaskFailure(models.Model):
    job_id = models.BigIntegerField(help_text="procrastinate_jobs.id (the job may since have been cleaned away).")
    task_name = models.CharField(max_length=128)
    queue_name = models.CharField(max_length=128)
    attempt = models.PositiveIntegerField(help_text="Which run of the job failed (1 for the first).")
    error = models.TextField(help_text="Exception class and message (no arguments, no traceback).")
    failed_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "task_failure"
        ordering = ["-failed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["job_id", "attempt"], name="task_failure_once_per_attempt"),
        ]
        indexes = [models.Index(fields=["-failed_at"], name="task_failure_recent")]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.job_id} attempt {self.attempt}"
