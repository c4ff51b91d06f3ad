"""Set-based SQL helpers for large demo seeds (``manage.py seed_demo --scale N``)."""

from __future__ import annotations

from django.db import connection

# From this many customers on, every app seeds with set-based SQL (``INSERT … SELECT
# generate_series``) instead of Python objects: a million customers take minutes. Below it,
# the readable per-object path runs (``make run``, most tests); tests lower it to exercise
# the bulk path on a small data set.
BULK_MIN_SCALE = 5000


def bulk_enabled(scale: int) -> bool:
    return scale >= BULK_MIN_SCALE


def bulk_execute(sql: str, params: dict | list | None = None) -> int:
    """Run one set-based statement of a demo seed; returns the number of rows it wrote."""
    with connection.cursor() as cursor:
        cursor.execute(sql, {} if params is None else params)  # always with parameters: "%%" means "%"
        return max(cursor.rowcount, 0)


def bulk_fetchone(sql: str, params: dict | list | None = None) -> tuple:
    """Run one set-based statement that ends with a SELECT of its counts; returns that row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, {} if params is None else params)
        return cursor.fetchone()


def bulk_session() -> None:
    """Session settings for a large seed, local to the current transaction."""
    bulk_execute("SET LOCAL synchronous_commit = off")
    bulk_execute("SET LOCAL work_mem = '256MB'")
