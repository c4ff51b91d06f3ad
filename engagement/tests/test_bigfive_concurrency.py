"""Same-email submissions from separate database connections: one customer, report_ids exactly 1..N."""

import pytest
from django.db import connection

from accounts.models import User
from engagement.models import QuizResult
from engagement.tests.helpers import random_answers, submit
from focusedroom.testing import run_in_parallel

N = 24


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_with_the_same_email():
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", " race@EXAMPLE.com "]

    def submit_one(i: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        submit(email=emails[i % len(emails)], answers=random_answers(i))
        return pid

    backend_pids, errors = run_in_parallel(N, submit_one)

    assert not errors, errors
    assert len(set(backend_pids)) == N  # really separate database connections
    assert User.objects.filter(email="race@example.com").count() == 1
    user = User.objects.get(email="race@example.com")
    reports = sorted(QuizResult.objects.filter(customer=user).values_list("report_id", flat=True))
    assert reports == list(range(1, N + 1))
