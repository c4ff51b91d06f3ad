"""Rate limits that are not API throttles: failed log-ins, password-reset requests.

Fixed-window counters (``focusedroom.counters``: Redis when configured, else the PostgreSQL
counter table — never a cache that may evict them), keyed by a keyed hash of what is counted (an
email address never appears in a key). One function per act: ``hit`` counts, ``retry_after`` tells
whether a limit is reached and for how long, ``clear`` forgets a key.
"""

from __future__ import annotations

from focusedroom import counters


def hit(*, scope: str, value: str, window: int) -> int:
    """Count one event for ``value`` in the current window; returns the count so far."""
    return counters.hit(counters.digest(scope, value), window=window).count


def retry_after(*, scope: str, value: str, limit: int, window: int) -> int:
    """Seconds until ``value`` may act again when it reached ``limit`` in this window, else 0."""
    found = counters.peek(counters.digest(scope, value), window=window)
    return found.reset_in if found.count >= limit else 0


def clear(*, scope: str, value: str, window: int) -> None:
    counters.clear(counters.digest(scope, value), window=window)
