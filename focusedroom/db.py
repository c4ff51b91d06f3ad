"""Database routing: the primary for everything, an optional replica for analytics; prepared statements.

Analytics reads (experiment results, dashboards) ask for ``analytics_alias()`` and use
``.using(...)`` explicitly; everything else, including all writes, goes to the primary.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

REPLICA_ALIAS = "replica"


def analytics_alias() -> str:
    """The database alias analytics reads should use."""
    return REPLICA_ALIAS if REPLICA_ALIAS in settings.DATABASES else "default"


class ReplicaRouter:
    """Keeps migrations on the primary and lets replica rows relate to primary rows."""

    def db_for_read(self, model, **hints):
        return None  # primary unless a query says .using(analytics_alias())

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def fetch_prepared(sql: str, params: dict[str, Any] | list[Any], *, read: bool = False) -> tuple | None:
    """The first row of ``sql`` run as a prepared statement on the default connection: parsed and
    planned on the connection's first run, executed by name afterwards (settings.PREPARE_WHEN_ASKED_ONLY).
    For the few statements every request or write sends; values travel as parameters (server-side
    binding). Behind a transaction-mode pgbouncer, where psycopg's ``prepare_threshold`` is None, it is
    sent unprepared. Errors are Django's; the query log sees the statement.

    ``read``: the statement changes nothing, so it may be sent twice. When it is the first of a
    request on a persistent connection (``CONN_HEALTH_CHECKS``: Django would first send ``SELECT 1``
    to learn whether the held connection still works), it is its own health check: if it fails and
    the connection turns out dead, the connection is closed and the statement sent again on a new
    one — what the health check would have done, in one round trip instead of two."""
    db = connections[DEFAULT_DB_ALIAS]  # once: every ``connection.x`` looks the connection up again
    if read and _health_check_due(db):
        db.health_check_done = True
        try:
            return _fetch_prepared(db, sql, params)
        except (InterfaceError, OperationalError):
            if db.is_usable():
                raise  # the statement failed, not the connection
            db.close()
    return _fetch_prepared(db, sql, params)


def _health_check_due(db) -> bool:
    """Django would check the held connection before its next statement (outside a transaction)."""
    return db.connection is not None and db.health_check_enabled and not db.health_check_done and not db.in_atomic_block


def _fetch_prepared(db, sql: str, params: dict[str, Any] | list[Any]) -> tuple | None:
    if db.queries_logged:  # DEBUG or a test's query capture: through Django's cursor, logged
        with db.cursor() as logged, logged.debug_sql(sql, params, use_last_executed_query=False):
            return _run_prepared(db, sql, params)
    # What Django's cursor() checks, without building its cursor and wrapper (a third of the call).
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    return _run_prepared(db, sql, params)


def _run_prepared(db, sql: str, params: dict[str, Any] | list[Any]) -> tuple | None:
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()
