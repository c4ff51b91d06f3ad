"""Seed-SQL compatibility views over ``engagement_quizresult`` (brief decisions 2 and 3).

* ``big_five_result`` — seed 000: ``id``, ``customer_id``, ``report_id``, ``scores``,
  ``suggestions``, ``created_at`` for quiz type ``big_five``.

  Seed 001's verification query ``SELECT customer_id, … FROM customer c JOIN
  big_five_result bfr ON c.customer_id = bfr.customer_id GROUP BY customer_id, …``
  names ``customer_id`` unqualified; if both relations had a column of that name,
  PostgreSQL (like every SQL database) would reject it as ambiguous. So the view keeps
  the owner in a column named ``customer_ref`` and exposes ``customer_id`` through a
  SQL function on the view's row type: PostgreSQL's attribute notation makes
  ``bfr.customer_id`` (and ``big_five_result.customer_id``) call ``customer_id(bfr)``,
  while an unqualified ``customer_id`` in that query can only mean ``c.customer_id``.
  The seed's query therefore runs unchanged, and so does every query that qualifies
  ``customer_id`` with the view's name or alias.
* ``quiz_results`` and ``quiz_attempts`` — seed 002's column names (``user_id``,
  ``attempt_timestamp``, ``quiz_name``, ``score``…) over the same table. Seed 002's
  ``user_id`` is NOT NULL, so these two views list the results of known people only.
* ``blog_engagement`` is a real table (``BlogEngagement.Meta.db_table``).

A later migration that alters a column used here must drop and re-create the views
around the change.
"""

from django.db import migrations

VIEWS = """
CREATE VIEW big_five_result AS
SELECT r.id,
       r.customer_id AS customer_ref,
       r.report_id,
       r.scores,
       r.suggestions,
       r.created_at
  FROM engagement_quizresult r
 WHERE r.quiz_type = 'big_five';

CREATE FUNCTION customer_id(big_five_result) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS 'SELECT $1.customer_ref';

COMMENT ON FUNCTION customer_id(big_five_result) IS
    'Seed 000 big_five_result.customer_id, reached as bfr.customer_id (attribute notation).';

CREATE VIEW quiz_results AS
SELECT r.id,
       r.customer_id            AS user_id,
       r.created_at             AS attempt_timestamp,
       r.quiz_type,
       r.quiz_version,
       r.scores,
       r.result_type,
       r.result_details,
       r.questions_and_answers,
       r.quiz_metadata,
       NULLIF(r.first_name, '') AS first_name,
       NULLIF(r.user_agent, '') AS user_agent,
       r.ip_address,
       NULLIF(r.referrer, '')   AS referrer,
       NULLIF(r.utm_source, '') AS utm_source,
       NULLIF(r.utm_medium, '') AS utm_medium,
       NULLIF(r.utm_campaign, '') AS utm_campaign,
       NULLIF(r.country_code, '') AS country_code,
       NULLIF(r.device_type, '') AS device_type,
       r.is_email_verified,
       r.verification_timestamp,
       r.session_identifier,
       r.experiment_data,
       r.created_at
  FROM engagement_quizresult r
 WHERE r.customer_id IS NOT NULL;

CREATE VIEW quiz_attempts AS
SELECT r.id,
       r.customer_id AS user_id,
       r.quiz_type   AS quiz_name,
       NULL::integer AS score,
       r.result_type,
       r.earned_gems,
       r.created_at
  FROM engagement_quizresult r
 WHERE r.customer_id IS NOT NULL;
"""

DROP_VIEWS = """
DROP VIEW IF EXISTS quiz_attempts;
DROP VIEW IF EXISTS quiz_results;
DROP FUNCTION IF EXISTS customer_id(big_five_result);
DROP VIEW IF EXISTS big_five_result;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0002_quiz_results_blog_engagement"),
        ("accounts", "0002_reference_data_and_seed_views"),
    ]

    operations = [migrations.RunSQL(VIEWS, DROP_VIEWS)]
