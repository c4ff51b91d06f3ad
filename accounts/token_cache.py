"""The process's short-lived memory of API tokens: ``key hash -> (token id, person id, last use)``.

A request with a token known here skips the token lookup and reads only the person's row. An entry
lives ``API_TOKEN_CACHE_SECONDS`` (default 30). Revoking a token — or every token of a person
(password change, soft deletion, erasure) — forgets it in this process at once; other processes
forget it when their entry expires, so **a revoked token may keep working for at most
``API_TOKEN_CACHE_SECONDS`` in another web process**. A deactivated, deleted or erased person is
refused at once everywhere: their row is read on every request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

MAX_ENTRIES = 50_000
_lock = threading.Lock()
_entries: dict[str, Entry] = {}
clock = time.monotonic  # tests move it


@dataclass
class Entry:
    token_id: int
    user_id: int
    last_used_at: datetime | None
    expires: float


def get(key_hash: str) -> Entry | None:
    entry = _entries.get(key_hash)
    if entry is None or entry.expires <= clock():
        return None
    return entry


def put(key_hash: str, *, token_id: int, user_id: int, last_used_at: datetime | None) -> Entry:
    ttl = settings.API_TOKEN_CACHE_SECONDS
    entry = Entry(token_id, user_id, last_used_at, clock() + ttl)
    if ttl > 0:
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key_hash] = entry
    return entry


def forget(*, token_id: int | None = None, user_id: int | None = None) -> None:
    """Forget a token, or every token of a person (called by the services that revoke)."""
    with _lock:
        for key_hash in [
            h for h, e in _entries.items() if (token_id is not None and e.token_id == token_id) or e.user_id == user_id
        ]:
            _entries.pop(key_hash, None)


def clear() -> None:
    with _lock:
        _entries.clear()
