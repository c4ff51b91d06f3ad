"""Seed SQL keeps working: seed 001's verification queries run unchanged; seed 000/002 names exist."""

import json

import pytest
from django.db import connection

from engagement.selectors import SEED_001_DUPLICATE_EMAILS_SQL, SEED_001_REPORT_TRACKING_SQL
from engagement.tests.helpers import random_answers, submit

pytestmark = pytest.mark.django_db

# Seed 001, "Verify Queries", copied as printed there.
DUPLICATES = "SELECT email_id, COUNT(*) FROM customer GROUP BY email_id HAVING COUNT(*) > 1;"
TRACKING = """SELECT customer_id, email_id, COUNT(*) as tests, MAX(report_id) as latest
   FROM customer c JOIN big_five_result bfr ON c.customer_id = bfr.customer_id
   GROUP BY customer_id, email_id HAVING COUNT(*) > 1;"""


def _fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_selectors_use_the_seed_queries_verbatim():
    assert SEED_001_DUPLICATE_EMAILS_SQL == DUPLICATES
    assert " ".join(SEED_001_REPORT_TRACKING_SQL.split()) == " ".join(TRACKING.split())


def test_seed_001_queries_run_unchanged():
    one = submit(email="souvik@example.com", answers=random_answers(1))
    submit(email="Souvik@Example.com", answers=random_answers(2))
    submit(email="single@example.com")
    submit()  # anonymous
    assert _fetch(DUPLICATES) == []
    assert _fetch(TRACKING) == [(one.customer_id, "souvik@example.com", 2, 2)]


def test_big_five_result_has_the_seed_columns():
    result = submit(email="cols@example.com")
    anonymous = submit()
    rows = _fetch(
        "SELECT bfr.id, bfr.customer_id, bfr.report_id, bfr.scores, bfr.suggestions, bfr.created_at "
        "FROM big_five_result bfr ORDER BY bfr.id"
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [(result.pk, result.customer_id, 1), (anonymous.pk, None, None)]
    assert json.loads(rows[0][3])["percentiles"] and rows[0][4]
    # The table name qualifies customer_id too (PostgreSQL attribute notation).
    assert _fetch("SELECT big_five_result.customer_id FROM big_five_result WHERE id = %s", [result.pk]) == [
        (result.customer_id,)
    ]


def test_quiz_results_and_quiz_attempts_views_use_seed_002_names():
    result = submit(email="views@example.com", tracking={"utm_source": "ads"})
    submit()  # anonymous: not in seed 002's views (user_id is NOT NULL there)
    rows = _fetch(
        "SELECT id, user_id, attempt_timestamp, quiz_type, quiz_version, result_type, utm_source, "
        "session_identifier, questions_and_answers FROM quiz_results"
    )
    assert [(r[0], r[1], r[3], r[4], r[6]) for r in rows] == [(result.pk, result.customer_id, "big_five", "1.0", "ads")]
    attempts = _fetch("SELECT id, user_id, quiz_name, score, result_type, earned_gems, created_at FROM quiz_attempts")
    result.refresh_from_db()  # the rewards app may have recorded quiz gems
    assert [(a[0], a[1], a[2], a[3], a[5]) for a in attempts] == [
        (result.pk, result.customer_id, "big_five", None, result.earned_gems)
    ]


def test_blog_engagement_table_has_the_seed_columns():
    columns = _fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'blog_engagement' ORDER BY column_name"
    )
    assert [c[0] for c in columns] == sorted(
        ["id", "post_slug", "engagement_type", "user_identifier", "feedback_text", "created_at"]
    )
