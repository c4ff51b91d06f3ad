"""Models of the integrations: the outbox, the inbound webhook log and AI profiles (seed 004).

``OutboxMessage`` (table ``customer_io_event_queue``) is the transactional outbox: rows are
written in the same transaction as the change they announce (only by
``integrations.services``) and delivered later by a worker.

``WebhookLog`` (table ``customer_io_webhook_log``) records every authenticated webhook
delivery from Customer.io and Kit, with whether it was processed and why not.
Deliveries are deduplicated by ``(source, event_id)``: one row per event (a partial unique
index over the rows with ``is_duplicate = false``); a valid replay adds no row, it counts on
the event's row (``replay_count``) and has no effect. ``WebhookRefusal`` counts the
deliveries refused before their body was read (reason, source address, hour).

``AIProfile`` (table ``user_ai_profiles``) holds one row of computed predictions per
person (``manage.py compute_ai_profiles``) merged with the predictions Customer.io
sends by webhook (see ``integrations.ai_profiles``).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KT
from django.db.models.functions import Now
from django.utils import timezone


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
        TAG_ADD = "tag_add"  # Kit: tag the subscriber with an audience's tag
        TAG_REMOVE = "tag_remove"  # Kit: remove an audience's tag from the subscriber

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
            # An audience's delivery errors, shown on its profile (``selectors.audience_sync_state``).
            models.Index(
                KT("event_data__profile_id"),
                name="outbox_audience_failed",
                condition=Q(status="failed", event_name__startswith="audience_"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.destination}:{self.action}:{self.event_name} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """The message's key, the same on every attempt: a ULID made of its creation time and id.

        Sent as the ``Idempotency-Key`` header of every request and as the ``id`` of Customer.io
        events (Customer.io drops an event whose id it has already received), so a message sent
        again after a worker died between the provider's answer and the outcome's write changes
        nothing the second time.
        """
        return ulid(timestamp_ms=int(self.created_at.timestamp() * 1000), entropy=self.pk)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(*, timestamp_ms: int, entropy: int) -> str:
    """A ULID (48-bit millisecond time, 80 bits more) in Crockford's base 32, 26 characters."""
    value = ((timestamp_ms & (2**48 - 1)) << 80) | (entropy & (2**80 - 1))
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class WebhookLog(models.Model):
    class Source(models.TextChoices):
        CUSTOMERIO = "customerio", "Customer.io"
        KIT = "kit", "Kit"

    source = models.CharField(max_length=20, choices=Source.choices)
    webhook_type = models.CharField(max_length=100, help_text="Metric or event, e.g. unsubscribed, prediction_update.")
    event_id = models.CharField(max_length=255, help_text="Provider's event id (Kit: digest of the signed request).")
    is_duplicate = models.BooleanField(
        default=False, help_text="A replay of an event already received (kept from before replays were counted)."
    )
    replay_count = models.PositiveIntegerField(
        default=0, db_default=0, help_text="Valid deliveries of this same event received again; they changed nothing."
    )
    last_replayed_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict)
    processed_successfully = models.BooleanField(null=True)
    error_message = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "customer_io_webhook_log"
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook log"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"],
                condition=Q(is_duplicate=False),
                name="webhook_log_event_once",
            ),
            models.CheckConstraint(condition=Q(source__in=["customerio", "kit"]), name="webhook_log_source_valid"),
            models.CheckConstraint(
                condition=Q(processed_successfully=True) | ~Q(error_message=""),
                name="webhook_log_failure_has_message",
            ),
        ]
        indexes = [
            models.Index(fields=["user"], name="webhook_log_user"),
            models.Index(fields=["webhook_type", "-created_at"], name="webhook_log_type_time"),
            models.Index(fields=["-created_at"], name="webhook_log_created"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.webhook_type} {self.event_id}"


class WebhookRefusal(models.Model):
    """Deliveries refused before their body was read (no secret configured, bad or stale signature).

    Counted, not stored one by one: one row per source, reason, source address and hour, whose
    ``count`` goes up with each refusal. Past ``MAX_ADDRESSES_PER_HOUR`` addresses in an hour, the
    others share the row with an empty address, so unauthenticated requests cannot fill the table.
    """

    class Reason(models.TextChoices):
        NOT_CONFIGURED = "not_configured", "No secret configured"
        BAD_TIMESTAMP = "bad_timestamp", "Timestamp missing or outside the replay window"
        BAD_SIGNATURE = "bad_signature", "Signature does not match"

    MAX_ADDRESSES_PER_HOUR = 1000

    source = models.CharField(max_length=20, choices=WebhookLog.Source.choices)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source_address = models.CharField(
        max_length=45, blank=True, default="", help_text="Client address (configured proxies only); empty: others."
    )
    hour = models.DateTimeField(help_text="The hour the refusals were counted in.")
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_message = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        db_table = "webhook_refusal"
        ordering = ["-last_seen_at"]
        verbose_name = "refused webhook delivery"
        verbose_name_plural = "refused webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "reason", "source_address", "hour"], name="webhook_refusal_one_row_per_hour"
            ),
            models.CheckConstraint(condition=Q(source__in=["customerio", "kit"]), name="webhook_refusal_source_valid"),
            models.CheckConstraint(
                condition=Q(reason__in=["not_configured", "bad_timestamp", "bad_signature"]),
                name="webhook_refusal_reason_valid",
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="webhook_refusal_count_positive"),
        ]
        indexes = [models.Index(fields=["hour", "source"], name="webhook_refusal_hour")]

    def __str__(self) -> str:
        return f"{self.source} {self.reason} from {self.source_address or 'other addresses'} ×{self.count}"


def _probability(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{name}__gte": 0, f"{name}__lte": 1}), name=f"ai_profile_{name}_0_1")


class AIProfile(models.Model):
    class Segment(models.TextChoices):
        NEW = "new", "New"
        CHAMPION = "champion", "Champion"
        ENGAGED = "engaged", "Engaged"
        AT_RISK = "at_risk", "At risk"
        DORMANT = "dormant", "Dormant"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_profile")
    churn_probability = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    predicted_lifetime_value = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    engagement_score = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    product_affinity_scores = models.JSONField(default=dict, blank=True)
    purchase_probability = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    recommended_segment = models.CharField(max_length=100, blank=True, default="")
    next_best_action = models.CharField(max_length=100, blank=True, default="")
    ai_insights = models.JSONField(
        default=dict, blank=True, help_text="Inputs of the computation and the last Customer.io predictions."
    )
    customerio_predicted_at = models.DateTimeField(
        null=True, blank=True, help_text="When Customer.io last sent predictions for this person."
    )
    calculated_at = models.DateTimeField(default=timezone.now, db_default=Now())
    last_synced_at = models.DateTimeField(null=True, blank=True, help_text="Last prediction webhook received.")

    class Meta:
        db_table = "user_ai_profiles"
        verbose_name = "AI profile"
        verbose_name_plural = "AI profiles"
        ordering = ["-churn_probability", "user_id"]
        constraints = [
            _probability("churn_probability"),
            _probability("engagement_score"),
            _probability("purchase_probability"),
            models.CheckConstraint(condition=Q(predicted_lifetime_value__gte=0), name="ai_profile_ltv_non_negative"),
        ]
        indexes = [
            models.Index(fields=["engagement_score"], name="ai_profile_engagement"),
            models.Index(fields=["churn_probability"], name="ai_profile_churn"),
            models.Index(fields=["recommended_segment"], name="ai_profile_segment"),
        ]

    def __str__(self) -> str:
        return f"AI profile of {self.user_id}"


class AudienceSync(models.Model):
    """Where a target customer profile's audience goes, and how its last sync went.

    ``key`` names the audience at the providers — the Customer.io attribute (``true`` while the
    person is in the audience, removed when they leave) and the Kit tag — and never changes once
    chosen, so renaming the profile does not orphan a segment.
    """

    profile = models.OneToOneField(
        "profiles.TargetCustomerProfile", on_delete=models.CASCADE, primary_key=True, related_name="audience_sync"
    )
    key = models.CharField(max_length=64, unique=True, help_text="Customer.io attribute and Kit tag name.")
    to_customerio = models.BooleanField("sync to Customer.io", default=False)
    to_kit = models.BooleanField("sync to Kit", default=False)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_entered = models.PositiveIntegerField(default=0, help_text="People who entered at the last sync.")
    last_left = models.PositiveIntegerField(default=0, help_text="People who left at the last sync.")
    members_customerio = models.PositiveIntegerField(default=0)
    members_kit = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        db_table = "audience_sync"
        verbose_name = "audience sync"
        ordering = ["key"]
        permissions = [
            ("read_audience", "Can see a profile's audience (size, composition)"),
            ("sync_audience", "Can sync a profile's audience to Customer.io and Kit"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(key__regex=r"^[a-z][a-z0-9_]{2,63}$"), name="audience_sync_key_format"),
        ]

    def __str__(self) -> str:
        return self.key


class AudienceMember(models.Model):
    """A person in a profile's audience as the providers were last told (the sync's memory).

    A row exists while the person is in the audience at one provider at least; the sync compares
    these rows with the audience now and sends only who entered and who left.
    """

    profile = models.ForeignKey("profiles.TargetCustomerProfile", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audience_memberships")
    in_customerio = models.BooleanField(default=False)
    in_kit = models.BooleanField(default=False)
    entered_at = models.DateTimeField(default=timezone.now, db_default=Now())
    synced_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "audience_member"
        constraints = [
            models.UniqueConstraint(fields=["profile", "user"], name="audience_member_unique"),
            models.CheckConstraint(condition=Q(in_customerio=True) | Q(in_kit=True), name="audience_member_somewhere"),
        ]
        indexes = [models.Index(fields=["user"], name="audience_member_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.profile_id}"


class AudienceSnapshot(models.Model):
    """A profile's audience size on a day (written by the periodic job; "change since last week")."""

    profile = models.ForeignKey("profiles.TargetCustomerProfile", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "audience_snapshot"
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "day"], name="audience_snapshot_one_per_day"),
            models.CheckConstraint(condition=Q(size__gte=0), name="audience_snapshot_size_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id} on {self.day}: {self.size}"
