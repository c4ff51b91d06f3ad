"""Rate limits that are not API throttles: failed log-ins, password-reset requests.

Fixed-window counters in the shared cache, keyed by a keyed hash of what is counted (an email
address never appears in a cache key). One function per act: ``hit`` counts, ``retry_after``
tells whether a limit is reached and for how long, ``clear`` forgets a key. The counter store
is this module's business only, so it can move to a store that never evicts (Redis, a
PostgreSQL counter table) without changing a caller.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils.crypto import salted_hmac

SALT = "focusedroom.ratelimit"


def _key(scope: str, value: str, window: int, now: float) -> str:
    digest = salted_hmac(SALT, f"{scope}\n{value}", algorithm="sha256").hexdigest()[:32]
    return f"rl:{scope}:{digest}:{int(now // window)}"


def hit(*, scope: str, value: str, window: int) -> int:
    """Count one event for ``value`` in the current window; returns the count so far."""
    now = time.time()
    key = _key(scope, value, window, now)
    cache.add(key, 0, timeout=window + 60)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 60)
        return 1


def retry_after(*, scope: str, value: str, limit: int, window: int) -> int:
    """Seconds until ``value`` may act again when it reached ``limit`` in this window, else 0."""
    now = time.time()
    count = cache.get(_key(scope, value, window, now)) or 0
    if count < limit:
        return 0
    return max(1, int(window - now % window))


def clear(*, scope: str, value: str, window: int) -> None:
    cache.delete(_key(scope, value, window, time.time()))
