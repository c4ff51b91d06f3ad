"""The integrations app takes over the outbox, the webhook log and AI profiles from ``engagement``.

The tables already exist (``customer_io_event_queue``, ``customer_io_webhook_log``,
``user_ai_profiles``): this migration only records them in Django's state, and moves the
content types so existing permissions and role groups keep pointing at the same rows.
"""

from decimal import Decimal

import django.db.models.deletion
import django.db.models.functions.datetime
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("aiprofile", "outboxmessage", "webhooklog")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="integrations", model__in=MOVED).exists():
        ContentType.objects.filter(app_label="engagement", model__in=MOVED).update(app_label="integrations")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="integrations", model__in=MOVED).update(app_label="engagement")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("accounts", "0004_verification_context_ids"),
        ("engagement", "0006_integrations_app_and_product_column"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AIProfile",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "churn_probability",
                            models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=5),
                        ),
                        (
                            "predicted_lifetime_value",
                            models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=10),
                        ),
                        ("engagement_score", models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=5)),
                        ("product_affinity_scores", models.JSONField(blank=True, default=dict)),
                        (
                            "purchase_probability",
                            models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=5),
                        ),
                        ("recommended_segment", models.CharField(blank=True, default="", max_length=100)),
                        ("next_best_action", models.CharField(blank=True, default="", max_length=100)),
                        (
                            "ai_insights",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                help_text="Inputs of the computation and the last Customer.io predictions.",
                            ),
                        ),
                        (
                            "customerio_predicted_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When Customer.io last sent predictions for this person.",
                                null=True,
                            ),
                        ),
                        (
                            "calculated_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                            ),
                        ),
                        (
                            "last_synced_at",
                            models.DateTimeField(blank=True, help_text="Last prediction webhook received.", null=True),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="ai_profile",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "AI profile",
                        "verbose_name_plural": "AI profiles",
                        "db_table": "user_ai_profiles",
                        "ordering": ["-churn_probability", "user_id"],
                        "indexes": [
                            models.Index(fields=["engagement_score"], name="ai_profile_engagement"),
                            models.Index(fields=["churn_probability"], name="ai_profile_churn"),
                            models.Index(fields=["recommended_segment"], name="ai_profile_segment"),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("churn_probability__gte", 0), ("churn_probability__lte", 1)),
                                name="ai_profile_churn_probability_0_1",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("engagement_score__gte", 0), ("engagement_score__lte", 1)),
                                name="ai_profile_engagement_score_0_1",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("purchase_probability__gte", 0), ("purchase_probability__lte", 1)),
                                name="ai_profile_purchase_probability_0_1",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("predicted_lifetime_value__gte", 0)),
                                name="ai_profile_ltv_non_negative",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "destination",
                            models.CharField(
                                choices=[("customerio", "Customer.io"), ("kit", "Kit")],
                                default="customerio",
                                max_length=20,
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("identify", "Identify"),
                                    ("event", "Event"),
                                    ("delete", "Delete"),
                                    ("subscriber_upsert", "Subscriber Upsert"),
                                    ("subscriber_delete", "Subscriber Delete"),
                                ],
                                default="event",
                                max_length=20,
                            ),
                        ),
                        ("event_name", models.CharField(max_length=255)),
                        ("event_data", models.JSONField(default=dict)),
                        (
                            "is_marketing",
                            models.BooleanField(default=False, help_text="Marketing events need the person's opt-in."),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("processing", "Processing"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                ],
                                default="pending",
                                max_length=12,
                            ),
                        ),
                        ("priority", models.IntegerField(default=10, help_text="Lower number is higher priority.")),
                        ("attempt_count", models.PositiveIntegerField(default=0)),
                        ("last_attempt_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "next_attempt_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                            ),
                        ),
                        (
                            "locked_until",
                            models.DateTimeField(
                                blank=True, help_text="Lease of the worker processing the row.", null=True
                            ),
                        ),
                        ("last_error", models.TextField(blank=True, default="")),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                            ),
                        ),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "brand",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="accounts.brand",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="outbox_messages",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "customer_io_event_queue",
                        "ordering": ["priority", "created_at"],
                        "indexes": [
                            models.Index(fields=["status", "priority", "created_at"], name="outbox_status_priority"),
                            models.Index(
                                condition=models.Q(("status__in", ["pending", "processing"])),
                                fields=["priority", "next_attempt_at"],
                                name="outbox_due",
                            ),
                            models.Index(fields=["user"], name="outbox_user"),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("status__in", ["pending", "processing", "sent", "failed"])),
                                name="outbox_status_valid",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="WebhookLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "source",
                            models.CharField(choices=[("customerio", "Customer.io"), ("kit", "Kit")], max_length=20),
                        ),
                        (
                            "webhook_type",
                            models.CharField(
                                help_text="Metric or event, e.g. unsubscribed, prediction_update.", max_length=100
                            ),
                        ),
                        (
                            "event_id",
                            models.CharField(
                                help_text="Provider's event id (Kit: digest of the signed request).", max_length=255
                            ),
                        ),
                        (
                            "is_duplicate",
                            models.BooleanField(
                                default=False, help_text="A replay of an event already received; ignored."
                            ),
                        ),
                        ("payload", models.JSONField(default=dict)),
                        ("processed_successfully", models.BooleanField(null=True)),
                        ("error_message", models.TextField(blank=True, default="")),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "created_at",
                            models.DateTimeField(
                                db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "webhook delivery",
                        "verbose_name_plural": "webhook log",
                        "db_table": "customer_io_webhook_log",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["user"], name="webhook_log_user"),
                            models.Index(fields=["webhook_type", "-created_at"], name="webhook_log_type_time"),
                            models.Index(fields=["-created_at"], name="webhook_log_created"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("is_duplicate", False)),
                                fields=("source", "event_id"),
                                name="webhook_log_event_once",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("source__in", ["customerio", "kit"])),
                                name="webhook_log_source_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("processed_successfully", True),
                                    models.Q(("error_message", ""), _negated=True),
                                    _connector="OR",
                                ),
                                name="webhook_log_failure_has_message",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
