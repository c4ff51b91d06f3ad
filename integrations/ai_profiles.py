"""AI profiles: one statement computes every active person's predictions.

Inputs per person (non-staff, active, not soft-deleted), from the event log:

* ``idle_days``   days since the last event (since sign-up when there is none);
* ``events_30d``  events in the last 30 days;
* ``scans_90d``   ``product_scanned`` events in the last 90 days;
* scans per product form (all time).

Formulas (every exponent clamped to [-50, 50]; results rounded to 4 decimals):

* recency   = exp(-idle_days / 14)   (0 when the person has no event)
* frequency = 1 - exp(-events_30d / 10)
* engagement_score     = 0.6 · recency + 0.4 · frequency
* churn_probability    = 1 / (1 + exp(-(idle_days - 30) / 7))   (one half after 30 idle days)
* purchase_probability = (1 - exp(-scans_90d / 3)) · (1 - churn_probability)
* product_affinity_scores = {product form: share of the person's scans}
* recommended_segment: ``new`` (joined < 14 days ago), else ``dormant`` (churn ≥ 0.9),
  ``at_risk`` (churn ≥ 0.5), ``champion`` (engagement ≥ 0.6), else ``engaged``
* next_best_action: ``verify_email`` (email not verified), else by segment: dormant ->
  ``win_back_offer``, at_risk -> ``re_engagement_email``, new without a Big Five result ->
  ``take_big_five_test``, champion -> ``invite_a_friend``; else ``recommend_products``
  when they scanned in the last 90 days, else ``explore_rewards``.

Customer.io predictions (webhook ``prediction_update`` / ``segment_change``) take
precedence, field by field, when they are newer than the person's last event: the model
behind them has seen everything we know. Once the person acts again, computed values
replace them until Customer.io sends a new prediction. ``predicted_lifetime_value`` only
comes from Customer.io.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from accounts.selectors import PEOPLE_TABLE
from engagement.selectors import EVENT_LOG_TABLE
from integrations.models import AIProfile

CHURN_BANDS = {
    "low": (0, 0.3),
    "medium": (0.3, 0.7),
    "high": (0.7, 1.01),
}

_CIO_WINS = (
    "p.customerio_predicted_at IS NOT NULL AND p.customerio_predicted_at >= "
    "COALESCE((EXCLUDED.ai_insights->'computed'->>'last_event_at')::timestamptz, '-infinity'::timestamptz) "
    "AND p.ai_insights->'customerio' ? '{field}'"
)


def _prefer_cio(field: str, cast: str) -> str:
    cond = _CIO_WINS.format(field=field)
    return (
        f"{field} = CASE WHEN {cond} THEN (p.ai_insights->'customerio'->>'{field}')::{cast} ELSE EXCLUDED.{field} END"
    )


# Table names come from model metadata; values are parameters.
COMPUTE_SQL = f"""
WITH people AS (
    SELECT u.id, u.created_at, u.is_email_verified
      FROM {PEOPLE_TABLE} u
     WHERE u.deleted_at IS NULL AND u.is_active AND NOT u.is_staff
),
activity AS (
    SELECT e.user_id,
           max(e.created_at) AS last_event_at,
           count(*) FILTER (WHERE e.created_at >= %(now)s - interval '30 days') AS events_30d,
           count(*) FILTER (WHERE e.event_type = 'product_scanned'
                              AND e.created_at >= %(now)s - interval '90 days') AS scans_90d,
           count(*) FILTER (WHERE e.event_type IN ('quiz_completed', 'big_five_completed')) AS quizzes
      FROM {EVENT_LOG_TABLE} e
     WHERE e.user_id IS NOT NULL AND e.created_at <= %(now)s
     GROUP BY e.user_id
),
forms AS (
    SELECT e.user_id, COALESCE(NULLIF(pr.product_form, ''), 'other') AS form, count(*) AS n
      FROM {EVENT_LOG_TABLE} e
      JOIN rewards_product pr ON pr.id = e.product_id
     WHERE e.event_type = 'product_scanned' AND e.user_id IS NOT NULL
     GROUP BY 1, 2
),
affinity AS (
    SELECT user_id, jsonb_object_agg(form, round(n::numeric / total, 4)) AS scores
      FROM (SELECT f.*, sum(n) OVER (PARTITION BY user_id) AS total FROM forms f) shares
     GROUP BY user_id
),
inputs AS (
    SELECT p.id AS user_id, p.created_at, p.is_email_verified, a.last_event_at,
           COALESCE(a.events_30d, 0) AS events_30d, COALESCE(a.scans_90d, 0) AS scans_90d,
           COALESCE(a.quizzes, 0) AS quizzes, COALESCE(af.scores, '{{}}'::jsonb) AS affinity,
           GREATEST(0, EXTRACT(EPOCH FROM (%(now)s - COALESCE(a.last_event_at, p.created_at))) / 86400.0)::float8
               AS idle_days
      FROM people p
      LEFT JOIN activity a ON a.user_id = p.id
      LEFT JOIN affinity af ON af.user_id = p.id
),
scored AS (
    SELECT i.*,
           round((0.6 * CASE WHEN i.last_event_at IS NULL THEN 0
                             ELSE exp(GREATEST(-50, -i.idle_days / 14.0)) END
                  + 0.4 * (1 - exp(GREATEST(-50, -i.events_30d / 10.0))))::numeric, 4) AS engagement,
           round((1 / (1 + exp(LEAST(50, GREATEST(-50, -(i.idle_days - 30) / 7.0)))))::numeric, 4) AS churn
      FROM inputs i
),
segmented AS (
    SELECT s.*,
           round(((1 - exp(GREATEST(-50, -s.scans_90d / 3.0))) * (1 - s.churn::float8))::numeric, 4) AS purchase,
           CASE WHEN s.created_at >= %(now)s - interval '14 days' THEN 'new'
                WHEN s.churn >= 0.9 THEN 'dormant'
                WHEN s.churn >= 0.5 THEN 'at_risk'
                WHEN s.engagement >= 0.6 THEN 'champion'
                ELSE 'engaged' END AS segment
      FROM scored s
)
INSERT INTO {AIProfile._meta.db_table} AS p (
    user_id, churn_probability, predicted_lifetime_value, engagement_score, product_affinity_scores,
    purchase_probability, recommended_segment, next_best_action, ai_insights, calculated_at
)
SELECT user_id, churn, 0, engagement, affinity, purchase, segment,
       CASE WHEN NOT is_email_verified THEN 'verify_email'
            WHEN segment = 'dormant' THEN 'win_back_offer'
            WHEN segment = 'at_risk' THEN 're_engagement_email'
            WHEN segment = 'new' AND quizzes = 0 THEN 'take_big_five_test'
            WHEN segment = 'champion' THEN 'invite_a_friend'
            WHEN scans_90d > 0 THEN 'recommend_products'
            ELSE 'explore_rewards' END,
       jsonb_build_object('computed', jsonb_build_object(
           'idle_days', round(idle_days::numeric, 2), 'events_30d', events_30d, 'scans_90d', scans_90d,
           'last_event_at', last_event_at)),
       %(now)s
  FROM segmented
ON CONFLICT (user_id) DO UPDATE SET
    {_prefer_cio("churn_probability", "numeric")},
    {_prefer_cio("engagement_score", "numeric")},
    {_prefer_cio("purchase_probability", "numeric")},
    {_prefer_cio("recommended_segment", "text")},
    {_prefer_cio("next_best_action", "text")},
    product_affinity_scores = EXCLUDED.product_affinity_scores,
    ai_insights = (p.ai_insights - 'computed') || EXCLUDED.ai_insights,
    calculated_at = EXCLUDED.calculated_at
"""  # noqa: S608


@transaction.atomic
def ai_profiles_compute(*, now: datetime | None = None) -> int:
    """Compute (insert or update) the AI profile of every active person; returns the row count."""
    with connection.cursor() as cursor:
        cursor.execute(COMPUTE_SQL, {"now": now or timezone.now()})
        return cursor.rowcount
