"""Plumbing tables that belong to no app.

``Counter`` is the PostgreSQL store of ``focusedroom.counters`` when Redis is not configured: one
row per counted key, reused from window to window (``window_start`` moves on, ``count`` restarts),
so the table holds one row per key seen recently, never one per window. The table is UNLOGGED
(counters are bookkeeping: not worth WAL, and an unclean shutdown only resets them) and has no
index besides its primary key, so every increment is a HOT update.

``DeliveryReceipt`` records the steps of background announcements that have taken effect
(``focusedroom.delivery``).

``TaskFailure`` (table ``task_failure``) records each failed run of a background job with its
error, written by the worker (``focusedroom.task_middleware``): procrastinate keeps a job's
status and events, not the exception. The console's "Background work" page lists them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone


class Counter(models.Model):
    key = models.TextField(primary_key=True)
    window_start = models.BigIntegerField(help_text="Start of the current window, in seconds since the epoch.")
    window_seconds = models.IntegerField()
    count = models.IntegerField()

    class Meta:
        db_table = "focusedroom_counter"
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1), name="focusedroom_counter_count_positive"),
            models.CheckConstraint(condition=Q(window_seconds__gte=1), name="focusedroom_counter_window_positive"),
        ]


class SharedVersion(models.Model):
    """A named version number every process compares with its own in-memory copy
    (``focusedroom.versions``): a change bumps it in the same transaction as the change itself."""

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = "focusedroom_shared_version"


class DeliveryReceipt(models.Model):
    """One step of a background announcement that has taken effect (``focusedroom.delivery``).

    The key names the announcement and the step (``engagement.result_recorded:42/rewards.receivers.on_quiz_completed``);
    it is written in the same transaction as the step's effects, so a retried job skips what already
    happened: effects exactly once. Receipts older than ``DELIVERY_RECEIPT_DAYS`` are pruned daily.
    """

    key = models.CharField(max_length=255, primary_key=True)
    created_at = models.DateTimeField(db_default=models.functions.Now(), db_index=True)

    class Meta:
        db_table = "focusedroom_delivery_receipt"


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
