"""Fixed-window counters: one round trip per count, and no count is ever lost to eviction.

Every throttle and rate limit of FocusedRoom counts here (``focusedroom.api.throttling``,
``focusedroom.ratelimit``). A counter is a ``name`` and a ``window`` in seconds; windows are aligned
on the epoch (a 60-second window runs from :00 to :59), so every process agrees on them.

Two stores, chosen by the settings (``backend()``):

* **Redis** when ``REDIS_URL`` is set: one ``EVALSHA`` of a two-line script that runs ``INCR`` of the
  window's key and, for the window's first count, ``EXPIRE`` — one command, atomic (Redis runs a
  script alone); the key expires a little after its window.
* **PostgreSQL** otherwise: one statement on the UNLOGGED ``focusedroom_counter`` table
  (``focusedroom.models.Counter``), ``INSERT … ON CONFLICT (key) DO UPDATE SET count = count + 1 …
  RETURNING count``. A key keeps one row: a new window restarts its count in place. Rows whose
  window ended long ago are deleted now and then (one hit in ``PRUNE_EVERY``, and ``prune()``).

Never the Django cache: the database cache culls a third of its entries when full (so limits
stopped working under load) and a cache may evict any key. Names are hashed with the secret key
(``digest``): no email address or IP address is stored as such.

The PostgreSQL statement runs on the caller's connection: inside a transaction that rolls back,
the count rolls back with it (the throttles and the log-in limits run outside any transaction).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connection
from django.utils.crypto import salted_hmac
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from focusedroom import redis_client

T = TypeVar("T")

SALT = "focusedroom.counters"
PRUNE_EVERY = 1000
# Rows are kept this long after their window ended (a late request of the old window still counts).
PRUNE_GRACE_SECONDS = 60

# Counts one event in Redis: the key's first count in its window sets its expiry. The one Lua rule
# of counting: ``_INCR`` runs it alone, and a script doing a request's own work may run it too
# (``Owed``, e.g. the exposure buffer's append).
COUNT_LUA = (
    "local function count(key, ttl) local n = redis.call('INCR', key) "
    "if n == 1 then redis.call('EXPIRE', key, ttl) end return n end "
)
_INCR = Script(None, (COUNT_LUA + "return count(KEYS[1], ARGV[1])").encode())

_UPSERT = """
INSERT INTO focusedroom_counter AS c (key, window_start, window_seconds, count)
VALUES (%s, %s, %s, 1)
ON CONFLICT (key) DO UPDATE
   SET count = CASE WHEN EXCLUDED.window_start > c.window_start THEN 1 ELSE c.count + 1 END,
       window_start = GREATEST(c.window_start, EXCLUDED.window_start),
       window_seconds = EXCLUDED.window_seconds
RETURNING count, window_start
"""


@dataclass(frozen=True)
class Hit:
    count: int  # events counted in the window so far, this one included
    reset_in: int  # seconds until the window ends (at least 1)


class LimitReached(Exception):
    """An ``Owed`` count went over its limit: the work that carried it was not done (the count is
    the ``Owed``'s ``counted``)."""


@dataclass
class Owed:
    """A count a request owes (one event for ``name``, at most ``limit`` a window), paid by the Redis
    script that does the request's own work — one round trip for both — or by ``settle``.

    A script that pays it takes ``redis_key()`` as one of its keys and ``redis_ttl()`` as an argument,
    runs ``count(key, ttl)`` of ``COUNT_LUA`` before its work and does no work when the count is over
    ``limit``; its caller then calls ``pay(count)``, which raises ``LimitReached`` over the limit."""

    name: str
    window: int
    limit: int
    now: float = field(default_factory=time.time)
    counted: Hit | None = None

    def redis_key(self) -> str:
        return _redis_key(self.name, _window_start(self.window, self.now))

    def redis_ttl(self) -> int:
        return self.window + PRUNE_GRACE_SECONDS

    def pay(self, count: int) -> None:
        self.counted = Hit(int(count), _reset_in(_window_start(self.window, self.now), self.window, self.now))
        if self.counted.count > self.limit:
            raise LimitReached(f"{self.counted.count} counted, at most {self.limit} a window")

    def settle(self) -> Hit:
        """Count now (one round trip) unless a script paid already; the count either way."""
        if self.counted is None:
            self.counted = hit(self.name, window=self.window, now=self.now)
        return self.counted


def backend() -> str:
    return "redis" if redis_client.client() is not None else "postgres"


def digest(scope: str, value: str) -> str:
    """The stored name of what is counted: a keyed hash, never the address or email itself."""
    return scope + ":" + salted_hmac(SALT, f"{scope}\n{value}", algorithm="sha256").hexdigest()[:32]


def _window_start(window: int, now: float) -> int:
    return int(now // window) * window


def _reset_in(start: int, window: int, now: float) -> int:
    return max(1, int(start + window - now + 0.999))


def _redis_key(name: str, start: int) -> str:
    """The Redis key of ``name``'s count in the window that starts at ``start``."""
    return redis_client.key("ctr", name, start)


def hit(name: str, *, window: int, now: float | None = None) -> Hit:
    """Count one event for ``name`` in the current window (one round trip)."""
    now = time.time() if now is None else now
    start = _window_start(window, now)
    redis = redis_client.client()
    if redis is not None:
        count = _INCR(keys=[_redis_key(name, start)], args=[window + PRUNE_GRACE_SECONDS], client=redis)
        return Hit(int(count), _reset_in(start, window, now))
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [name, start, window])
        count, stored_start = cursor.fetchone()
    if random.randrange(PRUNE_EVERY) == 0:
        prune(now=now)
    return Hit(count, _reset_in(stored_start, window, now))


def hit_during(name: str, *, window: int, work: Callable[[], T]) -> tuple[T, Hit]:
    """Count one event for ``name`` and run ``work`` while the count travels: with Redis the command
    is sent, ``work`` runs (a database read, say), then the count's answer is read — the request
    waits for one round trip instead of two. The count is made whatever ``work`` does (its
    exception is raised after the answer is read). Without Redis: ``work``, then ``hit``."""
    redis = redis_client.client()
    if redis is None:
        result = work()
        return result, hit(name, window=window)
    now = time.time()
    start = _window_start(window, now)
    pool = redis.connection_pool
    conn = pool.get_connection()
    count = None
    try:
        conn.send_command("EVALSHA", _INCR.sha, 1, _redis_key(name, start), window + PRUNE_GRACE_SECONDS)
        try:
            result = work()
        finally:
            try:
                count = conn.read_response()
            except NoScriptError:  # a server that has not seen the script yet: counted below
                count = None
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)
    if count is None:
        return result, hit(name, window=window, now=now)
    return result, Hit(int(count), _reset_in(start, window, now))


def peek(name: str, *, window: int, now: float | None = None) -> Hit:
    """The current window's count without counting (0 when nothing was counted)."""
    now = time.time() if now is None else now
    start = _window_start(window, now)
    redis = redis_client.client()
    if redis is not None:
        found = redis.get(_redis_key(name, start))
        return Hit(int(found or 0), _reset_in(start, window, now))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count FROM focusedroom_counter WHERE key = %s AND window_start = %s", [name, start])
        row = cursor.fetchone()
    return Hit(row[0] if row else 0, _reset_in(start, window, now))


def clear(name: str, *, window: int, now: float | None = None) -> None:
    """Forget the current window's count."""
    now = time.time() if now is None else now
    redis = redis_client.client()
    if redis is not None:
        redis.delete(_redis_key(name, _window_start(window, now)))
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM focusedroom_counter WHERE key = %s", [name])


def prune(*, now: float | None = None) -> int:
    """Delete the PostgreSQL rows whose window ended more than ``PRUNE_GRACE_SECONDS`` ago (Redis keys expire)."""
    if redis_client.client() is not None:
        return 0
    now = time.time() if now is None else now
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM focusedroom_counter WHERE window_start + window_seconds < %s",
            [int(now) - PRUNE_GRACE_SECONDS],
        )
        return cursor.rowcount
