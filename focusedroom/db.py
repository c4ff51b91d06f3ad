"""Database routing: the primary for everything, an optional replica for analytics.

Analytics reads (experiment results, dashboards) ask for ``analytics_alias()`` and use
``.using(...)`` explicitly; everything else, including all writes, goes to the primary.
"""

from __future__ import annotations

from django.conf import settings

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
