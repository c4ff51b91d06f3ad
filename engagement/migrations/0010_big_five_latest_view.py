"""``big_five_latest``: every customer's latest Big Five result as indexed columns (a MATERIALIZED VIEW).

The latest result is the one with the highest ``report_id`` among the customer's Big Five
results that carry all five domain percentiles as numbers. The percentiles become ``smallint``
columns with a B-tree index each; the unique index on ``customer_id`` is what ``REFRESH
MATERIALIZED VIEW CONCURRENTLY`` needs (``engagement.services.big_five_latest_refresh``).

Written to be re-run safely (``IF NOT EXISTS``). A later migration that alters a column of
``engagement_quizresult`` used here (``customer_id``, ``quiz_type``, ``report_id``, ``scores``,
``sex``, ``created_at``) must drop the view and create it again around the change.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DOMAINS = {"O": "openness", "C": "conscientiousness", "E": "extraversion", "A": "agreeableness", "N": "neuroticism"}

CREATE = (
    """
CREATE MATERIALIZED VIEW IF NOT EXISTS big_five_latest AS
SELECT DISTINCT ON (r.customer_id)
       r.customer_id,
       r.id         AS result_id,
       r.report_id,
       r.created_at AS taken_at,
       r.sex,
"""
    + ",\n".join(
        f"       round((r.scores->'percentiles'->>'{code}')::numeric)::smallint AS {name}"
        for code, name in DOMAINS.items()
    )
    + """
  FROM engagement_quizresult r
 WHERE r.quiz_type = 'big_five'
   AND r.customer_id IS NOT NULL
"""
    + "\n".join(f"   AND jsonb_typeof(r.scores->'percentiles'->'{code}') = 'number'" for code in DOMAINS)
    + """
 ORDER BY r.customer_id, r.report_id DESC
  WITH DATA;

CREATE UNIQUE INDEX IF NOT EXISTS big_five_latest_customer ON big_five_latest (customer_id);
"""
    + "\n".join(
        f"CREATE INDEX IF NOT EXISTS big_five_latest_{name} ON big_five_latest ({name});" for name in DOMAINS.values()
    )
    + "\nCOMMENT ON MATERIALIZED VIEW big_five_latest IS "
    "'Each customer''s latest Big Five result (percentiles as columns); refreshed by the periodic job.';\n"
)

DROP = "DROP MATERIALIZED VIEW IF EXISTS big_five_latest;"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_action_tokens_email_changes_sessions"),
        ("engagement", "0009_compare_links"),
    ]

    operations = [
        migrations.CreateModel(
            name="BigFiveLatest",
            fields=[
                (
                    "customer",
                    models.OneToOneField(
                        db_column="customer_id",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="big_five_latest",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("result_id", models.BigIntegerField()),
                ("report_id", models.PositiveIntegerField()),
                ("taken_at", models.DateTimeField()),
                ("sex", models.CharField(max_length=1)),
                ("openness", models.SmallIntegerField()),
                ("conscientiousness", models.SmallIntegerField()),
                ("extraversion", models.SmallIntegerField()),
                ("agreeableness", models.SmallIntegerField()),
                ("neuroticism", models.SmallIntegerField()),
            ],
            options={
                "verbose_name": "latest Big Five result",
                "db_table": "big_five_latest",
                "managed": False,
            },
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
