"""Refused webhook deliveries are counted (``webhook_refusal``); replays count on the event's row.

The duplicate rows logged before stay as they were; each event's row gets their number and the
time of the last one in ``replay_count`` and ``last_replayed_at``.
"""

import django.utils.timezone
from django.db import migrations, models


def count_earlier_replays(apps, schema_editor):
    from django.db.models import Count, Max

    WebhookLog = apps.get_model("integrations", "WebhookLog")
    replays = (
        WebhookLog.objects.filter(is_duplicate=True)
        .values("source", "event_id")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by()
    )
    for row in replays.iterator():
        WebhookLog.objects.filter(source=row["source"], event_id=row["event_id"], is_duplicate=False).update(
            replay_count=row["n"], last_replayed_at=row["last"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhooklog",
            name="last_replayed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhooklog",
            name="replay_count",
            field=models.PositiveIntegerField(
                db_default=0,
                default=0,
                help_text="Valid deliveries of this same event received again; they changed nothing.",
            ),
        ),
        migrations.AlterField(
            model_name="webhooklog",
            name="is_duplicate",
            field=models.BooleanField(
                default=False,
                help_text="A replay of an event already received (kept from before replays were counted).",
            ),
        ),
        migrations.CreateModel(
            name="WebhookRefusal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(choices=[("customerio", "Customer.io"), ("kit", "Kit")], max_length=20)),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("not_configured", "No secret configured"),
                            ("bad_timestamp", "Timestamp missing or outside the replay window"),
                            ("bad_signature", "Signature does not match"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "source_address",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="Client address (configured proxies only); empty: others.",
                        max_length=45,
                    ),
                ),
                ("hour", models.DateTimeField(help_text="The hour the refusals were counted in.")),
                ("count", models.PositiveIntegerField(default=1)),
                ("first_seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_seen_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_message", models.CharField(blank=True, default="", max_length=255)),
            ],
            options={
                "verbose_name": "refused webhook delivery",
                "verbose_name_plural": "refused webhook deliveries",
                "db_table": "webhook_refusal",
                "ordering": ["-last_seen_at"],
                "indexes": [models.Index(fields=["hour", "source"], name="webhook_refusal_hour")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source", "reason", "source_address", "hour"), name="webhook_refusal_one_row_per_hour"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("source__in", ["customerio", "kit"])), name="webhook_refusal_source_valid"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("reason__in", ["not_configured", "bad_timestamp", "bad_signature"])),
                        name="webhook_refusal_reason_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("count__gte", 1)), name="webhook_refusal_count_positive"
                    ),
                ],
            },
        ),
        migrations.RunPython(count_earlier_replays, migrations.RunPython.noop),
    ]
