"""The one Redis connection of a process, when ``REDIS_URL`` is set (else ``None``).

Redis holds what every web process must share and must never lose to eviction pressure from other
traffic: the fixed-window counters (``focusedroom.counters``), the version of the experiment
definitions, and the exposure buffer. Every key starts with ``REDIS_KEY_PREFIX`` so several
deployments (or test runs) can share one server.
"""

from __future__ import annotations

import threading

from django.conf import settings

_lock = threading.Lock()
_clients: dict[str, object] = {}


def client():
    """A ``redis.Redis`` for ``settings.REDIS_URL`` (one connection pool per process), or ``None``."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    found = _clients.get(url)
    if found is None:
        import redis

        with _lock:
            found = _clients.get(url)
            if found is None:
                found = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
                _clients[url] = found
    return found


def key(*parts: object) -> str:
    return settings.REDIS_KEY_PREFIX + ":".join(str(p) for p in parts)
