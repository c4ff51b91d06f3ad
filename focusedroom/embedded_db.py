"""The embedded PostgreSQL server used in development and tests.

When no ``DATABASE_URL`` is configured outside production, FocusedRoom runs a real
PostgreSQL server from the binaries shipped by the ``pgserver`` package, with its data
folder inside the checkout (``.pgdata/``, git-ignored). The first process starts it;
every later process (a second ``runserver``, the test suite, a management command)
finds the running server through its ``postmaster.pid`` and reuses it. The server is
stopped when the last process that uses it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "focusedroom"


def embedded_database_url(data_dir: Path, *, database: str = DATABASE_NAME) -> str:
    """Start (or attach to) the embedded server and return a URL for ``database``.

    The database is created on first use.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); harmless.
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=<socket dir>
    _ensure_database(uri, database)
    return uri.replace("/postgres?", f"/{database}?", 1)


def _ensure_database(admin_uri: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
                logger.info("created embedded database %s", database)
            except psycopg.errors.DuplicateDatabase:  # another process won the race
                pass
