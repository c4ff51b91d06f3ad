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


def database_url_for(settings_dict: dict) -> str:
    """A ``DATABASE_URL`` that reaches the database described by a Django connection's settings.

    Used to hand the current database (a TCP host or the embedded server's socket directory)
    to a child process, e.g. a worker started by a test.
    """
    from urllib.parse import quote

    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@"
    name = quote(settings_dict["NAME"], safe="")
    host = settings_dict.get("HOST") or (settings_dict.get("OPTIONS") or {}).get("host", "")
    if not host or host.startswith("/"):
        query = f"?host={quote(host, safe='/')}" if host else ""
        return f"postgres://{credentials}/{name}{query}"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{name}"
