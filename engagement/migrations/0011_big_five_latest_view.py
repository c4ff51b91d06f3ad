"""``big_five_latest``: one row per customer with their latest Big Five result as indexed columns (a MATERIALIZED VIEW).

Every live customer (not staff, not soft-deleted) has a row: the five domain percentiles of
their latest Big Five result (the highest ``report_id`` among results that carry all five as
numbers; NULL when they have none) as ``smallint`` columns with a B-tree index each, the sex
recorded with it, and — as of the refresh — the person's columns an audience filters and groups
by (age, country, channel, career stage) and the fields of the consent rule. Audience counts are
then one scan of one narrow table. The unique index on ``customer_id`` is what ``REFRESH
MATERIALIZED VIEW CONCURRENTLY`` needs (``engagement.services.big_five_latest_refresh``).

Written to be re-run safely (``IF NOT EXISTS``). A later migration that alters a column used
here (``engagement_quizresult``: ``customer_id``, ``quiz_type``, ``report_id``, ``scores``, ``sex``,
``created_at``; ``accounts_user``: the ones selected below) must drop the view and create it
again around the change.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DOMAINS = {"O": "openness", "C": "conscientiousness", "E": "extraversion", "A": "agreeableness", "N": "neuroticism"}

CREATE = (
    """
CREATE MATERIALIZED VIEW IF NOT EXISTS big_five_latest AS
SELECT u.id            AS customer_id,
       u.age,
       u.country_code,
       u.channel_id,
       u.career_stage,
       u.marketing_opt_in,
       u.is_active,
       u.is_email_verified,
       u.deleted_at,
       r.result_id,
       r.report_id,
       r.taken_at,
       r.sex,
"""
    + ",\n".join(f"       r.{name}" for name in DOMAINS.values())
    + """
  FROM accounts_user u
  LEFT JOIN (
        SELECT DISTINCT ON (q.customer_id)
               q.customer_id,
               q.id         AS result_id,
               q.report_id,
               q.created_at AS taken_at,
               q.sex,
"""
    + ",\n".join(
        f"               round((q.scores->'percentiles'->>'{code}')::numeric)::smallint AS {name}"
        for code, name in DOMAINS.items()
    )
    + """
          FROM engagement_quizresult q
         WHERE q.quiz_type = 'big_five'
           AND q.customer_id IS NOT NULL
"""
    + "\n".join(f"           AND jsonb_typeof(q.scores->'percentiles'->'{code}') = 'number'" for code in DOMAINS)
    + """
         ORDER BY q.customer_id, q.report_id DESC
       ) r ON r.customer_id = u.id
 WHERE NOT u.is_staff
   AND u.deleted_at IS NULL
  WITH DATA;

CREATE UNIQUE INDEX IF NOT EXISTS big_five_latest_customer ON big_five_latest (customer_id);
"""
    + "\n".join(
        f"CREATE INDEX IF NOT EXISTS big_five_latest_{name} ON big_five_latest ({name});" for name in DOMAINS.values()
    )
    + "\nCOMMENT ON MATERIALIZED VIEW big_five_latest IS "
    "'One row per customer: latest Big Five percentiles, and audience columns as of the refresh.';\n"
)

DROP = "DROP MATERIALIZED VIEW IF EXISTS big_five_latest;"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_action_tokens_email_changes_sessions"),
        ("engagement", "0010_event_partitions_brand"),
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
