"""Time-ordered UUIDs (UUIDv7, RFC 9562) for the high-volume tables.

A random UUIDv4 key lands anywhere in its primary-key index, so at millions of rows almost every
insert dirties a different index page (a full-page image in the WAL after each checkpoint). A UUIDv7
starts with the millisecond timestamp: rows written together sit together in the index, like a
sequence, while ids stay unguessable enough (74 random bits) and can be made by any process or
worker without a round trip. Python 3.11 has no ``uuid.uuid7``; this is the RFC's layout.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b (the rest dropped)
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def uuid7_for(ms: int, name: str) -> uuid.UUID:
    """A UUIDv7 with the timestamp ``ms`` whose other bits derive from ``name``: the same name, the same id.

    For rows written from a durable buffer: written twice (a retry after a crash), the second write
    meets the primary key instead of making a copy.
    """
    import hashlib

    rand = int.from_bytes(hashlib.sha256(name.encode()).digest()[:10], "big")
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    return uuid.UUID(int=(ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)
