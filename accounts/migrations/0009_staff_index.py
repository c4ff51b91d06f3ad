"""The staff among the people: the console's staff list and its count read a partial index instead
of scanning every person. Built concurrently: the people table keeps taking writes."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0008_guardrail_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("is_staff", True)),
                fields=["-created_at", "-id"],
                name="accounts_user_staff",
            ),
        ),
    ]
