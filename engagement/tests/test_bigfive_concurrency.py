"""Same-email submissions from separate database connections: one customer, report_ids exactly 1..N."""

import threading

import pytest
from django.db import connection, connections

from accounts.models import Brand, Channel, User
from engagement.models import QuizResult
from engagement.tests.helpers import random_answers, submit

N = 24


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_with_the_same_email():
    # An earlier transactional test may have flushed the reference rows the migrations insert.
    for pk, name in ((1, "Big Five Test"), (2, "eBook Download"), (3, "Mobile App")):
        Channel.objects.get_or_create(pk=pk, defaults={"name": name})
    Brand.objects.get_or_create(slug="focusedroom", defaults={"name": "FocusedRoom"})
    emails = ["race@example.com", "RACE@example.com", "Race@Example.com", " race@EXAMPLE.com "]
    barrier = threading.Barrier(N)
    errors: list[BaseException] = []
    backend_pids: set[int] = set()

    def worker(i: int) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend_pids.add(cursor.fetchone()[0])
            barrier.wait(timeout=30)
            submit(email=emails[i % len(emails)], answers=random_answers(i))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors, errors
    assert len(backend_pids) == N  # really separate database connections
    assert User.objects.filter(email="race@example.com").count() == 1
    user = User.objects.get(email="race@example.com")
    reports = sorted(QuizResult.objects.filter(customer=user).values_list("report_id", flat=True))
    assert reports == list(range(1, N + 1))
