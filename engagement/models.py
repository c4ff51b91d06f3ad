"""The event log, quiz results and blog engagement.

``Event`` is the one append-only event log (seeds 002 ``user_engagements`` and
``user_engagement_tracking``, 004 ``user_action_log``): rows are never updated or
deleted, except by GDPR erasure, which lifts the database trigger explicitly; retention
drops whole months. The table is partitioned by month on ``created_at`` (migration 0010,
``focusedroom.partitions``): its primary key in the database is ``(id, created_at)``, and
``id`` alone stays unique because only the identity sequence hands it out — the model keeps
a single ``id`` primary key. ``QuizResult`` is the one quiz-result table (Big Five and future
quizzes); ``BlogEngagement`` is seed 000's ``blog_engagement``.
"""

from __future__ import annotations

import secrets

import pgtrigger
from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Length, Now
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

SHA256_HEX = r"^[0-9a-f]{64}$"  # a stored token: the SHA-256 of the clear token, in hex


class Event(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="", help_text="Visitor id before they identify.")
    event_type = models.CharField(max_length=64)
    brand = models.ForeignKey(
        "accounts.Brand",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        # Unnamed by a writer: the default brand, in the same statement (the SQL function of accounts 0007).
        db_default=models.Func(function="accounts_default_brand_id", output_field=models.BigIntegerField()),
    )
    metadata = models.JSONField(default=dict, blank=True)
    experiment_context = models.CharField(max_length=100, blank=True, default="")
    variant_context = models.CharField(max_length=100, blank=True, default="")
    page_url = models.TextField(blank=True, default="")
    product_id = models.BigIntegerField(
        null=True, blank=True, help_text="The rewards product the event is about (seed 004 user_action_log.product_id)."
    )
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
            models.Index(fields=["-created_at", "-id"], name="engagement_event_time_id"),  # console order
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.created_at:%Y-%m-%d %H:%M}"


def new_public_id() -> str:
    """An unguessable public id for a result's URL (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


class QuizType(models.TextChoices):
    BIG_FIVE = "big_five", "Big Five (IPIP-NEO-120)"


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"


QUIZ_VERSION_PATTERN = r"^[0-9]+\.[0-9]+(\.[0-9]+)?$"


class QuizResult(models.Model):
    """One completed quiz, of any quiz type (brief decision 3).

    Seeds 000 ``big_five_result`` and 002 ``quiz_results`` / ``quiz_attempts`` are views
    over this table (migration 0003). ``report_id`` numbers a customer's results of one
    quiz type 1, 2, 3…; an anonymous result (no customer) has no ``report_id``.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="quiz_results",
        help_text="Empty for an anonymous test (no email given).",
    )
    quiz_type = models.CharField(max_length=50, choices=QuizType.choices, default=QuizType.BIG_FIVE)
    quiz_version = models.CharField(max_length=20, default="1.0")
    report_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The customer's test number for this quiz type (1, 2, 3…)."
    )
    scores = models.JSONField(default=dict)
    result_type = models.CharField(max_length=100)
    result_details = models.JSONField(null=True, blank=True)
    questions_and_answers = models.JSONField()
    quiz_metadata = models.JSONField(null=True, blank=True)
    suggestions = models.TextField(blank=True, default="", help_text="Personal insights (seed 000 suggestions).")
    earned_gems = models.IntegerField(default=0)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True, default="", help_text="Used for norms.")
    age = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Age when the test was taken.")
    norm_group = models.CharField(max_length=32, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    user_agent = models.TextField(blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    referrer = models.TextField(blank=True, default="")
    utm_source = models.CharField(max_length=100, blank=True, default="")
    utm_medium = models.CharField(max_length=100, blank=True, default="")
    utm_campaign = models.CharField(max_length=100, blank=True, default="")
    country_code = models.CharField(max_length=2, blank=True, default="")
    device_type = models.CharField(max_length=20, blank=True, default="")
    is_email_verified = models.BooleanField(default=False)
    verification_timestamp = models.DateTimeField(null=True, blank=True)
    session_identifier = models.UUIDField(null=True, blank=True)
    experiment_data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "quiz_type", "report_id"], name="quiz_result_customer_report_unique"
            ),
            models.CheckConstraint(
                condition=(Q(customer__isnull=True) & Q(report_id__isnull=True))
                | (Q(customer__isnull=False) & Q(report_id__isnull=False) & Q(report_id__gte=1)),
                name="quiz_result_report_id_for_customers",
            ),
            models.CheckConstraint(condition=Q(quiz_type__in=QuizType.values), name="quiz_result_quiz_type_valid"),
            models.CheckConstraint(
                condition=Q(quiz_version__regex=QUIZ_VERSION_PATTERN), name="quiz_result_quiz_version_format"
            ),
            models.CheckConstraint(condition=Q(earned_gems__gte=0), name="quiz_result_earned_gems_non_negative"),
            models.CheckConstraint(condition=Q(sex__in=["", *Sex.values]), name="quiz_result_sex_valid"),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=13, age__lte=120), name="quiz_result_age_13_120"
            ),
        ]
        indexes = [
            # Newest first and the API's cursor, ``(created_at, id) < (…)``, even where many results share
            # a timestamp (imported ones): the order is read from the index, never sorted.
            models.Index(fields=["created_at", "id"], name="quiz_result_time_id"),
            models.Index(fields=["quiz_type", "-created_at"], name="quiz_result_type_created"),
            # A visitor's results before they identify (``selectors.big_five_traits_before_many``).
            models.Index(KT("quiz_metadata__anonymous_id"), F("created_at"), name="quiz_result_anonymous_time"),
        ]

    def __str__(self) -> str:
        who = f"customer {self.customer_id} #{self.report_id}" if self.customer_id else "anonymous"
        return f"{self.get_quiz_type_display()} — {who}"


class PendingResult(models.Model):
    """A test submitted without logging in, with the address of someone who holds an account.

    The result itself stays unattached (no customer, no report number) and shows only its own
    scores; the person gets an email with a link (``token_hash`` holds the SHA-256 of its token)
    that offers to add it to their history. Following it attaches the result (``attached_at``);
    until then the person's profile, consent, history and balance are untouched. ``profile``
    keeps the demographics given with the test: they fill only the fields the person left empty.
    """

    result = models.OneToOneField(QuizResult, on_delete=models.CASCADE, related_name="pending")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_quiz_results")
    token_hash = models.CharField(max_length=64, unique=True)
    profile = models.JSONField(default=dict, blank=True, help_text="Demographics given with the test.")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    expires_at = models.DateTimeField()
    attached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "quiz_result_pending"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(token_hash__regex=SHA256_HEX), name="quiz_result_pending_hash_sha256"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="quiz_result_pending_expiry"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="quiz_result_pending_user")]

    def __str__(self) -> str:
        return f"pending result for {self.user_id} ({self.created_at:%Y-%m-%d %H:%M})"


class BlogEngagementType(models.TextChoices):
    LIKE = "like", "Like"
    HELPFUL_YES = "helpful_yes", "Helpful"
    HELPFUL_NO = "helpful_no", "Not helpful"


class BlogEngagement(models.Model):
    """A like or a helpful/not-helpful vote on a blog post (seed 000 ``blog_engagement``).

    ``user_identifier`` is a keyed hash (HMAC) of the visitor's IP and user agent, never
    the raw values; one visitor counts once per post and engagement type.
    """

    Type = BlogEngagementType
    FEEDBACK_MAX_LENGTH = 1000

    post_slug = models.SlugField(max_length=255)
    engagement_type = models.CharField(max_length=50, choices=BlogEngagementType.choices)
    user_identifier = models.CharField(max_length=255)
    feedback_text = models.TextField(blank=True, default="", help_text="Only for 'helpful_no'.")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "blog_engagement"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post_slug", "engagement_type", "user_identifier"], name="blog_engagement_unique_per_visitor"
            ),
            models.CheckConstraint(
                condition=Q(engagement_type__in=BlogEngagementType.values), name="blog_engagement_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(feedback_text="") | Q(engagement_type="helpful_no"),
                name="blog_engagement_feedback_only_helpful_no",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("feedback_text"), 1000), name="blog_engagement_feedback_length"
            ),
        ]
        indexes = [models.Index(fields=["post_slug", "engagement_type"], name="blog_engagement_post_type")]

    def __str__(self) -> str:
        return f"{self.post_slug}: {self.engagement_type}"


class CompareLink(models.Model):
    """A member's invitation to compare Big Five profiles with one other person.

    The member (``owner``) creates it from one of their reports; the link they send carries
    ``public_id`` and a signature of it (``engagement.services.compare_link_signature``: an HMAC
    keyed by ``SECRET_KEY``, so nothing secret is stored). The first member who opens it and
    shares one of their own reports becomes the ``guest``; from then on only those two people
    see the comparison, and either of them can revoke it (``revoked_at``). Nobody else who holds
    the link sees anything.
    """

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compare_links")
    owner_result = models.ForeignKey(QuizResult, on_delete=models.CASCADE, related_name="+")
    guest = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="compare_links_joined"
    )
    guest_result = models.ForeignKey(QuizResult, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    joined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(guest__isnull=True) & Q(guest_result__isnull=True) & Q(joined_at__isnull=True))
                | (Q(guest__isnull=False) & Q(guest_result__isnull=False) & Q(joined_at__isnull=False)),
                name="compare_link_guest_complete",
            ),
            models.CheckConstraint(condition=~Q(guest=models.F("owner")), name="compare_link_guest_not_owner"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                name="compare_link_revoked_after_created",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="compare_link_owner"),
            models.Index(fields=["guest", "-created_at"], name="compare_link_guest"),
        ]
        triggers = [
            # Each side compares one of their own reports.
            pgtrigger.Trigger(
                name="own_reports_only",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                func="""
                    IF (SELECT customer_id FROM engagement_quizresult WHERE id = NEW.owner_result_id)
                            IS DISTINCT FROM NEW.owner_id
                       OR (NEW.guest_result_id IS NOT NULL AND
                           (SELECT customer_id FROM engagement_quizresult WHERE id = NEW.guest_result_id)
                            IS DISTINCT FROM NEW.guest_id) THEN
                        RAISE EXCEPTION 'a compare link compares each person''s own report'
                            USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"compare link {self.public_id} of {self.owner_id}"

    @property
    def is_open(self) -> bool:
        """Waiting for someone to join (not joined, not revoked)."""
        return self.guest_id is None and self.revoked_at is None


# The materialised view of every customer's latest Big Five result (migration 0010).
BIG_FIVE_LATEST_VIEW = "big_five_latest"


class BigFiveLatest(models.Model):
    """One row per customer with their latest Big Five result as indexed columns: a PostgreSQL MATERIALIZED VIEW.

    Every live customer (not staff, not soft-deleted) has a row: the five domain percentiles (1–99)
    of their latest result (the highest ``report_id``; NULL without one) as small integers, each
    B-tree indexed, and — as of the last refresh — the columns an audience filters and groups by
    (age, country, channel, career stage) and the consent rule's fields. An audience's size and
    composition are then one scan of one narrow table instead of a join of two wide ones. A unique
    index on ``customer_id`` lets ``services.big_five_latest_refresh`` run ``REFRESH MATERIALIZED VIEW
    CONCURRENTLY`` (readers are never blocked). Refreshed by the hourly audience job and soon after a
    consent change or an erasure. Read-only (``managed = False``): created by raw SQL in migration 0010.
    """

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="big_five_latest",
        db_column="customer_id",
    )
    age = models.PositiveSmallIntegerField(null=True)
    country_code = models.CharField(max_length=2)
    channel_id = models.SmallIntegerField(null=True)
    career_stage = models.CharField(max_length=100)
    marketing_opt_in = models.BooleanField()
    is_active = models.BooleanField()
    is_email_verified = models.BooleanField()
    deleted_at = models.DateTimeField(null=True)
    result_id = models.BigIntegerField(null=True)
    report_id = models.PositiveIntegerField(null=True)
    taken_at = models.DateTimeField(null=True)
    sex = models.CharField(max_length=1, null=True)
    openness = models.SmallIntegerField(null=True)
    conscientiousness = models.SmallIntegerField(null=True)
    extraversion = models.SmallIntegerField(null=True)
    agreeableness = models.SmallIntegerField(null=True)
    neuroticism = models.SmallIntegerField(null=True)

    class Meta:
        managed = False
        db_table = BIG_FIVE_LATEST_VIEW
        verbose_name = "latest Big Five result"

    def __str__(self) -> str:
        return f"customer {self.customer_id}: report {self.report_id}"
