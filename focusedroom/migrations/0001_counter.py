"""The counter table of ``focusedroom.counters``: UNLOGGED, and no index but its primary key.

Written as SQL because Django would add a second (``text_pattern_ops``) index to a text primary key
and cannot create an UNLOGGED table; the model state is the same table.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Counter",
                    fields=[
                        ("key", models.TextField(primary_key=True, serialize=False)),
                        (
                            "window_start",
                            models.BigIntegerField(
                                help_text="Start of the current window, in seconds since the epoch."
                            ),
                        ),
                        ("window_seconds", models.IntegerField()),
                        ("count", models.IntegerField()),
                    ],
                    options={
                        "db_table": "focusedroom_counter",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(count__gte=1), name="focusedroom_counter_count_positive"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(window_seconds__gte=1), name="focusedroom_counter_window_positive"
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    """
                    CREATE UNLOGGED TABLE focusedroom_counter (
                        key text PRIMARY KEY,
                        window_start bigint NOT NULL,
                        window_seconds integer NOT NULL,
                        count integer NOT NULL,
                        CONSTRAINT focusedroom_counter_count_positive CHECK (count >= 1),
                        CONSTRAINT focusedroom_counter_window_positive CHECK (window_seconds >= 1)
                    ) WITH (fillfactor = 70)
                    """,
                    reverse_sql="DROP TABLE focusedroom_counter",
                ),
            ],
        ),
    ]
