"""Prepared statements where the code asks for them (``focusedroom.db.fetch_prepared``)."""

from __future__ import annotations

import pytest
from django.db import connection


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
