"""Impressions become partitioned by month on ``impression_at``; participations, impressions,
conversions and their attributions carry their brand (the distribution column of a sharded deployment).

Every impression moves (``focusedroom.partitions.table_partition``): same table name, columns,
constraint and index names; the primary key becomes ``(id, impression_at)`` (``id`` is a random
UUID, unique by construction). The ``brand_id`` columns are added afterwards with the default brand
as their default: PostgreSQL evaluates that non-volatile default once and existing rows read it
without the table being rewritten (the backfill costs nothing). Reversible.
"""

import django.db.models.deletion
from django.db import migrations, models

from focusedroom.partitions import table_partition, table_unpartition

TABLE, COLUMN = "impressions", "impression_at"


def forward(apps, schema_editor):
    table_partition(schema_editor, table=TABLE, column=COLUMN)


def backward(apps, schema_editor):
    table_unpartition(schema_editor, table=TABLE, column=COLUMN)


def brand():
    return models.ForeignKey(
        blank=True,
        db_default=models.Func(function="accounts_default_brand_id", output_field=models.BigIntegerField()),
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="accounts.brand",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_default_brand_function"),
        ("experiments", "0006_lean_exposure_indexes_uuid7"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
        migrations.AddField(model_name="conversion", name="brand", field=brand()),
        migrations.AddField(model_name="conversionattribution", name="brand", field=brand()),
        migrations.AddField(model_name="impression", name="brand", field=brand()),
        migrations.AddField(model_name="participation", name="brand", field=brand()),
    ]
