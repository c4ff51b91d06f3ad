"""Indexes for the experiments' guardrail metrics: the opt-outs and the email bounces since an
experiment's start (each read by every results computation). Built concurrently: the people table
keeps taking writes while its index is built."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0007_default_brand_function"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="personchange",
            index=models.Index(
                condition=models.Q(("marketing_opt_in", False)),
                fields=["created_at"],
                name="person_change_opt_out_time",
            ),
        ),
        AddIndexConcurrently(
            model_name="user",
            index=models.Index(
                condition=models.Q(("email_bounced_at__isnull", False)),
                fields=["email_bounced_at"],
                name="accounts_user_bounced",
            ),
        ),
    ]
