"""The event log and the integrations outbox.

``Event`` is the one append-only event log (seeds 002 ``user_engagements`` and
``user_engagement_tracking``, 004 ``user_action_log``): rows are never updated or
deleted, except by retention pruning and GDPR erasure, which lift the database
trigger explicitly. ``OutboxMessage`` is the transactional outbox (seed 004
``customer_io_event_queue``): rows are written in the same transaction as the change
they announce and delivered later by a worker.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone


class Event(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="", help_text="Visitor id before they identify.")
    event_type = models.CharField(max_length=64)
    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    metadata = models.JSONField(default=dict, blank=True)
    experiment_context = models.CharField(max_length=100, blank=True, default="")
    variant_context = models.CharField(max_length=100, blank=True, default="")
    page_url = models.TextField(blank=True, default="")
    product = models.ForeignKey("rewards.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    points_awarded = models.IntegerField(default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, default="")
    device_type = models.CharField(max_length=20, blank=True, default="")
    session_identifier = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="engagement_event_user_time"),
            models.Index(fields=["event_type", "-created_at"], name="engagement_event_type_time"),
            BrinIndex(fields=["created_at"], name="engagement_event_created_brin"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.created_at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        SENT = "sent"
        FAILED = "failed"

    class Destination(models.TextChoices):
        CUSTOMERIO = "customerio", "Customer.io"
        KIT = "kit", "Kit"

    class Action(models.TextChoices):
        IDENTIFY = "identify"  # Customer.io PUT /customers/{id}
        EVENT = "event"  # Customer.io POST /customers/{id}/events
        DELETE = "delete"  # Customer.io DELETE /customers/{id} (GDPR erasure)
        SUBSCRIBER_UPSERT = "subscriber_upsert"  # Kit POST /v4/subscribers
        SUBSCRIBER_DELETE = "subscriber_delete"  # Kit unsubscribe (GDPR erasure)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox_messages"
    )
    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    destination = models.CharField(max_length=20, choices=Destination.choices, default=Destination.CUSTOMERIO)
    action = models.CharField(max_length=20, choices=Action.choices, default=Action.EVENT)
    event_name = models.CharField(max_length=255)
    event_data = models.JSONField(default=dict)
    is_marketing = models.BooleanField(default=False, help_text="Marketing events need the person's opt-in.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    priority = models.IntegerField(default=10, help_text="Lower number is higher priority.")
    attempt_count = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_default=Now())
    locked_until = models.DateTimeField(null=True, blank=True, help_text="Lease of the worker processing the row.")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "customer_io_event_queue"
        ordering = ["priority", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "processing", "sent", "failed"]), name="outbox_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "priority", "created_at"], name="outbox_status_priority"),
            models.Index(
                fields=["priority", "next_attempt_at"],
                name="outbox_due",
                condition=Q(status__in=["pending", "processing"]),
            ),
            models.Index(fields=["user"], name="outbox_user"),
        ]

    def __str__(self) -> str:
        return f"{self.destination}:{self.action}:{self.event_name} ({self.status})"
