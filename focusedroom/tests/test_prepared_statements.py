"""Prepared statements where the code asks for them (``focusedroom.db.fetch_prepared``)."""

from __future__ import annotations

import pytest
from django.db import connection, connections


@pytest.mark.django_db(transaction=True)
def test_fetch_prepared_plans_a_statement_once_per_connection_unless_behind_a_pooler():
    """``fetch_prepared``: the first run prepares, later runs execute it by name; with psycopg's
    ``prepare_threshold`` at None (DB_PGBOUNCER) nothing is prepared and the answer is the same."""
    from accounts.selectors import active_person
    from accounts.tests.factories import CustomerFactory
    from focusedroom.db import fetch_prepared

    def prepared(fragment: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
            return [runs for statement, runs in cursor.fetchall() if fragment in statement]

    sql = "SELECT %s::int + 1 AS fr_prepared_probe"
    assert [fetch_prepared(sql, [n]) for n in range(3)] == [(1,), (2,), (3,)]
    assert prepared("fr_prepared_probe") == [3]
    person = CustomerFactory()
    assert active_person(person.pk).email == person.email and active_person(person.pk).pk == person.pk
    assert prepared('FROM "accounts_user"') == [2]  # the token's person, read on every API request
    raw = connection.connection
    threshold, raw.prepare_threshold = raw.prepare_threshold, None
    try:
        assert fetch_prepared("SELECT %s::int AS fr_unprepared_probe", [5]) == (5,)
        assert prepared("fr_unprepared_probe") == []
    finally:
        raw.prepare_threshold = threshold


@pytest.mark.django_db(transaction=True)
def test_a_read_is_its_own_health_check_and_is_sent_again_on_a_new_connection_when_the_held_one_died(
    monkeypatch,
):
    """With health checks on, the first statement of a request is normally preceded by ``SELECT 1``
    (Django's check of the held connection). ``fetch_prepared(read=True)`` is the check itself: no
    ``SELECT 1``; and when the held connection died meanwhile, the read still answers, from a new
    connection. A read that fails on a live connection is not sent again."""
    from django.db import OperationalError

    from focusedroom.db import fetch_prepared

    checks = []
    wrapper = connections["default"]
    real_is_usable = wrapper.is_usable
    monkeypatch.setattr(wrapper, "is_usable", lambda: checks.append(1) or real_is_usable())

    def new_request() -> None:  # what Django does between requests (close_if_unusable_or_obsolete)
        connection.ensure_connection()
        connection.health_check_enabled, connection.health_check_done = True, False

    sql = "SELECT %s::int * 2 AS fr_checked_probe"
    new_request()
    assert fetch_prepared(sql, [21], read=True) == (42,) and checks == []
    with connection.cursor() as cursor:  # a later statement of the same request: nothing to check
        cursor.execute("SELECT 1")
    assert checks == []
    new_request()
    with connection.cursor() as cursor:  # any other first statement is preceded by the check
        cursor.execute("SELECT 1")
    assert checks == [1]

    new_request()
    dead = connection.connection.info.backend_pid
    other = connection.copy()  # a second connection, as the server's own restart or an idle timeout would
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [dead])
    finally:
        other.close()
    checks.clear()
    assert fetch_prepared(sql, [5], read=True) == (10,)
    assert connection.connection.info.backend_pid != dead and checks == [1]  # found dead once, then reconnected

    new_request()
    alive = connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 50")
    new_request()
    with pytest.raises(OperationalError):
        fetch_prepared("SELECT pg_sleep(1) AS fr_slow_probe", [], read=True)
    assert connection.connection.info.backend_pid == alive  # the statement failed, not the connection
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
