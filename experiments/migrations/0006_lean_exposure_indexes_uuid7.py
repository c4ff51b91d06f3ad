"""Exposure tables: time-ordered keys (UUIDv7, for rows written from now on) and two indexes fewer on each.

The foreign keys' own indexes on ``user`` and ``experiment`` are dropped: the partial index on
``user_id`` (non-null rows) and the indexes that start with ``experiment_id`` serve every query and
cascade. Existing ids stay as they are (a default only applies to new rows).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import focusedroom.ids


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0005_sequential_cuped_segments_holdouts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="impression",
            name="experiment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="impressions",
                to="experiments.experiment",
            ),
        ),
        migrations.AlterField(
            model_name="impression",
            name="id",
            field=models.UUIDField(default=focusedroom.ids.uuid7, editable=False, primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name="impression",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="experiment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="participations",
                to="experiments.experiment",
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="id",
            field=models.UUIDField(default=focusedroom.ids.uuid7, editable=False, primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name="participation",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
