"""The exposure buffer: exposures travel through a Redis Stream to ``manage.py exposure_writer``.

On when ``EXPOSURE_BUFFER=redis`` (the default whenever ``REDIS_URL`` is set). The request assigns
from the in-process definition and appends one entry (a script that checks the definitions' shared
version has not moved and runs ``XADD``: one round trip, no database write); the writer reads the
stream in a consumer group (``XREADGROUP … BLOCK``), writes each batch in one transaction
(``experiments.services.exposures_write`` — the same function the synchronous path uses, so both
modes store the same rows) and acknowledges the entries after the commit.

Durability and exactly-once: an entry stays in the stream (pending in the group) until the batch
that holds it committed. Each impression's id derives from its entry's id (``impression_id``: a
UUIDv7 with the entry's timestamp), so an entry written but not acknowledged (a crash between the
commit and ``XACK``) is recognised when it comes back and only acknowledged. On start a writer
re-reads its own pending entries, then claims entries other consumers left pending longer than
``CLAIM_IDLE_MS`` (``XAUTOCLAIM``).

Identity stitching (``services.identity_stitch``) also appends a marker to the stream, so an
exposure buffered before a visitor identified is moved to the person once the writer reaches it:
entries are applied in stream order by a writer. Run one writer per stream (several consumers stay
correct for exposures, but a stitch marker then only orders the entries of its own consumer).
"""

from __future__ import annotations

import json
import socket
from typing import Any

from django.conf import settings
from redis.commands.core import Script

from experiments.selectors import VERSION_NAME
from focusedroom import counters, redis_client, versions
from focusedroom.ids import uuid7_for

GROUP = "writers"
CLAIM_IDLE_MS = 60_000


def enabled() -> bool:
    return settings.EXPOSURE_BUFFER == "redis" and redis_client.client() is not None


def stream_key() -> str:
    return redis_client.key("exposures")


def default_consumer() -> str:
    return f"writer-{socket.gethostname()}"


def impression_id(entry_id: str):
    """The id of the impression an entry becomes: the same entry, the same id (written once)."""
    return uuid7_for(int(entry_id.partition("-")[0]), stream_key() + "/" + entry_id)


# Appends an entry — only while the definitions' shared version is the one the entry was assigned at,
# when ARGV[1] names one — after counting the request's throttle when KEYS[3] is its counter (nothing
# appended over the limit). Answers {appended (1/0), the count (0: none)}.
_PUSH = Script(
    None,
    (
        counters.COUNT_LUA
        + "local n = 0 "
        + "if KEYS[3] then n = count(KEYS[3], ARGV[3]) if n > tonumber(ARGV[4]) then return {0, n} end end "
        + "if ARGV[1] ~= '' and tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then "
        + "return {0, n} end "
        + "redis.call('XADD', KEYS[2], '*', 'e', ARGV[2]) return {1, n}"
    ).encode(),
)


def push(event: dict[str, Any], *, definitions_version: int | None = None, owed: counters.Owed | None = None) -> bool:
    """Append an exposure (one round trip). With ``definitions_version`` (the version its assignment
    used), only while that is still the shared version — checked and appended in one script — and
    False when it moved: the caller reloads the definitions and assigns again. With ``owed`` (a
    request's throttle count not made yet), the same script counts it first and appends nothing over
    the limit (``counters.LimitReached``)."""
    payload = json.dumps(event, separators=(",", ":"), default=str)
    keys = [versions.redis_key(VERSION_NAME), stream_key()]
    args: list[Any] = ["" if definitions_version is None else definitions_version, payload]
    owed = owed if owed is not None and owed.counted is None else None
    if owed is not None:
        keys.append(owed.redis_key())
        args += [owed.redis_ttl(), owed.limit]
    appended, count = _PUSH(keys=keys, args=args, client=redis_client.client())
    if owed is not None:
        owed.pay(count)
    return bool(appended)


def ensure_group() -> None:
    import redis

    try:
        redis_client.client().xgroup_create(stream_key(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _decode(entries) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for entry_id, fields in entries or []:
        if fields is None:  # deleted meanwhile
            continue
        raw = fields.get(b"e") or fields.get("e")
        out.append((entry_id.decode() if isinstance(entry_id, bytes) else entry_id, json.loads(raw)))
    return out


def read_own_pending(consumer: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Entries delivered to ``consumer`` before and never acknowledged (a restart)."""
    found = redis_client.client().xreadgroup(GROUP, consumer, {stream_key(): "0"}, count=count)
    return _decode(found[0][1]) if found else []


def read_new(consumer: str, count: int, block_ms: int | None) -> list[tuple[str, dict[str, Any]]]:
    found = redis_client.client().xreadgroup(GROUP, consumer, {stream_key(): ">"}, count=count, block=block_ms)
    return _decode(found[0][1]) if found else []


def claim_abandoned(consumer: str, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Entries other consumers left pending for ``CLAIM_IDLE_MS``, now ours (``XAUTOCLAIM``)."""
    found = redis_client.client().xautoclaim(stream_key(), GROUP, consumer, CLAIM_IDLE_MS, "0-0", count=count)
    return _decode(found[1])


def ack(entry_ids: list[str]) -> None:
    """Acknowledge and delete written entries (one round trip): the stream holds only what is not written."""
    if not entry_ids:
        return
    pipe = redis_client.client().pipeline(transaction=True)
    pipe.xack(stream_key(), GROUP, *entry_ids)
    pipe.xdel(stream_key(), *entry_ids)
    pipe.execute()


def backlog() -> int:
    """Entries in the stream not yet written and acknowledged."""
    return int(redis_client.client().xlen(stream_key()))
