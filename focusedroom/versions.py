"""Shared version numbers: what lets a process keep data in its own memory and still see every change.

A process caches something it reads on every request (the experiment definitions) in its memory
together with the version it was read at; ``current(name)`` — one cheap read per request — tells
whether the copy is still good, and ``bump(name)`` after a change makes every process reload. Nothing
else traffic does can evict the copy (unlike a shared cache that culls or evicts).

* With Redis (``REDIS_URL``), the version is a Redis key (``INCR``). The bump happens at once and
  again after the transaction commits, so a process that reloaded between the two (seeing the data
  before the commit) reloads once more.
* Without Redis, it is a row of ``focusedroom_shared_version`` updated in the writer's transaction:
  the new version becomes visible exactly when the change does.
"""

from __future__ import annotations

from django.db import connection, transaction

from focusedroom import redis_client

_BUMP = """
INSERT INTO focusedroom_shared_version AS v (name, value) VALUES (%s, 1)
ON CONFLICT (name) DO UPDATE SET value = v.value + 1
"""


def redis_key(name: str) -> str:
    """The Redis key holding version ``name`` (a script that must act only at a known version reads it)."""
    return redis_client.key("version", name)


def current(name: str) -> int:
    redis = redis_client.client()
    if redis is not None:
        return int(redis.get(redis_key(name)) or 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM focusedroom_shared_version WHERE name = %s", [name])
        row = cursor.fetchone()
    return row[0] if row else 0


def _bump_redis(name: str) -> None:
    redis = redis_client.client()
    if redis is not None:
        redis.incr(redis_key(name))


def bump(name: str) -> None:
    """Every process's copy of ``name`` is out of date (call it where the change is written)."""
    if redis_client.client() is not None:
        _bump_redis(name)
        transaction.on_commit(lambda: _bump_redis(name))
        return
    with connection.cursor() as cursor:
        cursor.execute(_BUMP, [name])
