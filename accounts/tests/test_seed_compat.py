import pytest
from django.db import connection

from accounts.models import User


def fetch(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.mark.django_db
def test_channel_details_has_the_seed_rows_and_columns():
    rows = fetch("SELECT channel_id, channel_name, description FROM channel_details ORDER BY channel_id")
    assert [(r[0], r[1]) for r in rows] == [(1, "Big Five Test"), (2, "eBook Download"), (3, "Mobile App")]


@pytest.mark.django_db
def test_customer_view_has_seed_columns_and_only_customers():
    User.objects.create_user(
        "ada@example.com",
        name="Ada",
        age=36,
        profession="Engineer",
        career_stage="mid_career",
        purpose="Grow",
        channel_id=2,
        marketing_opt_in=True,
    )
    User.objects.create_user("staff@example.com", is_staff=True)
    rows = fetch(
        "SELECT customer_id, email_id, name, age, profession, career_stage, purpose, channel_id, create_dt, opt_in"
        " FROM customer"
    )
    assert len(rows) == 1
    _, email, name, age, profession, stage, purpose, channel, created, opt_in = rows[0]
    assert (email, name, age, profession, stage, purpose, channel, opt_in) == (
        "ada@example.com",
        "Ada",
        36,
        "Engineer",
        "mid_career",
        "Grow",
        2,
        True,
    )
    assert created is not None


@pytest.mark.django_db
def test_seed_duplicate_email_query_runs_unchanged_and_finds_none():
    for i in range(3):
        User.objects.create_user(f"p{i}@example.com")
    assert fetch("SELECT email_id, COUNT(*) FROM customer GROUP BY email_id HAVING COUNT(*) > 1;") == []
