"""The event log becomes partitioned by month on ``created_at``; every event carries its brand.

Every row moves (``focusedroom.partitions.table_partition``): the table keeps its name, columns,
defaults, constraint and index names, the append-only trigger (which PostgreSQL clones onto every
partition) and its identity sequence's position. The primary key becomes ``(id, created_at)``
(a partitioned table's unique keys include the partition key); ``id`` stays unique because only
the sequence hands it out. Events without a brand get the default brand on the way. Reversible:
back to one plain table, every row kept.
"""

import django.db.models.deletion
from django.db import migrations, models

from focusedroom.partitions import table_partition, table_unpartition

TABLE, COLUMN = "engagement_event", "created_at"


def forward(apps, schema_editor):
    table_partition(
        schema_editor, table=TABLE, column=COLUMN, fill={"brand_id": "coalesce(brand_id, accounts_default_brand_id())"}
    )


def backward(apps, schema_editor):
    table_unpartition(schema_editor, table=TABLE, column=COLUMN)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_default_brand_function"),
        ("engagement", "0009_compare_links"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="brand",
            field=models.ForeignKey(
                blank=True,
                db_default=models.Func(function="accounts_default_brand_id", output_field=models.BigIntegerField()),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="accounts.brand",
            ),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
