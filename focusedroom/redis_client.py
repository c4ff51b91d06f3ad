"""The Redis client of a process (a connection per thread), when ``REDIS_URL`` is set (else ``None``).

Redis holds what every web process must share and must never lose to eviction pressure from other
traffic: the fixed-window counters (``focusedroom.counters``), the version of the experiment
definitions, and the exposure buffer. Every key starts with ``REDIS_KEY_PREFIX`` so several
deployments (or test runs) can share one server.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

_lock = threading.Lock()
_pools: dict[str, object] = {}
_local = threading.local()


def client():
    """A ``redis.Redis`` for ``settings.REDIS_URL``, or ``None``: one per thread, each holding one
    connection of the process's pool for that URL.

    A client that holds its connection (redis-py's ``single_connection_client``) sends a command
    without taking a connection from the pool, asking the socket whether it is clean and giving it
    back — about a quarter of the client's cost of a small command (``EVALSHA``). One per thread
    keeps it as thread-safe as the pool; a forked child starts with none (``os.register_at_fork``)."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    clients = _local.__dict__.setdefault("clients", {})
    found = clients.get(url)
    if found is None:
        import redis

        found = clients[url] = redis.Redis(connection_pool=_pool(url), single_connection_client=True)
    return found


def _pool(url: str):
    import redis

    with _lock:
        pool = _pools.get(url)
        if pool is None:
            pool = _pools[url] = redis.ConnectionPool.from_url(
                url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30
            )
        return pool


def _forget_after_fork() -> None:
    _pools.clear()
    _local.__dict__.pop("clients", None)


os.register_at_fork(after_in_child=_forget_after_fork)


def key(*parts: object) -> str:
    return settings.REDIS_KEY_PREFIX + ":".join(str(p) for p in parts)
