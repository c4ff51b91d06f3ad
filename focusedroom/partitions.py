"""Monthly range partitions of the history tables (native declarative partitioning).

The plumbing knows no app: it works on table and column names. Apps register their partitioned
tables in ``registries.partitioned_tables`` (``PartitionedTable``) and their retention in
``registries.retention_jobs``; ``partitions_maintain()`` (the periodic task
``focusedroom.partitions_maintain``, daily) creates the months ahead and runs every retention job.

A table's partitions are named ``<table>_pYYYYMM`` and hold ``[first day of the month, first day
of the next month)`` in UTC. There is deliberately **no default partition**: a row whose month has
no partition is refused (``no partition of relation … found for row``) instead of landing in a
catch-all that would later block creating that month's partition. The guard against such refusals:
``PARTITIONS_MONTHS_AHEAD`` months are always created ahead (the daily job; three by default), the
writers bound the times they accept (the event API: 30 days back, 5 minutes ahead), the migrations
create ``PARTITIONS_MONTHS_BEHIND`` months back, and writers of history (``seed_demo``) call
``partitions_ensure`` for their range first. ``partitions_status()`` says how far ahead each table
is covered (``manage.py partitions``).

Retention drops whole months: a partition goes once *all* its rows are older than the cutoff
(``partitions_drop_before``), by ``DETACH PARTITION`` (``CONCURRENTLY`` when not inside a
transaction, so writers are not blocked) then ``DROP TABLE``. No row trigger fires and nothing is
rewritten; a month is kept up to one month longer than the retention says.

``table_partition`` / ``table_unpartition`` convert a table in place (migrations): the rows move
to a partitioned table of the same name, columns, defaults, CHECK and foreign-key constraints (same
names), index names (on the parent), triggers (with pgtrigger's comments) and identity sequence
position; the primary key becomes ``(id, <partition column>)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from focusedroom import registries


@dataclass(frozen=True)
class PartitionedTable:
    """A table partitioned by month on ``column`` (a ``timestamp with time zone``)."""

    table: str
    column: str


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime


def register_partitioned_table(*, table: str, column: str) -> None:
    registries.partitioned_tables.register(table, PartitionedTable(table=table, column=column))


def register_retention_job(*, name: str, job: Callable[[], object]) -> None:
    """``job()`` applies one table's retention (it reads its own setting) and returns what it removed."""
    registries.retention_jobs.register(name, job)


# ------------------------------------------------------------------------ months


def month_start(when: date | datetime) -> date:
    if isinstance(when, datetime):
        when = when.astimezone(UTC) if timezone.is_aware(when) else when
    return date(when.year, when.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _utc(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month.year:04d}{month.month:02d}"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


# ------------------------------------------------------------------------ reading

_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


def _parse_bound(text: str) -> datetime:
    # PostgreSQL prints a timestamptz bound in the session's zone (Django's connections use UTC):
    # '2026-01-01 00:00:00+00' — Python wants '+00:00'.
    text = re.sub(r"([+-]\d\d)$", r"\1:00", text.strip())
    return datetime.fromisoformat(text)


def is_partitioned(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def partitions(table: str) -> list[Partition]:
    """The table's range partitions, oldest first (a default partition, if someone made one, is left out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = to_regclass(%s)
            """,
            [table],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        match = _BOUND.search(bound or "")
        if match:
            found.append(Partition(name=name, start=_parse_bound(match[1]), end=_parse_bound(match[2])))
    return sorted(found, key=lambda p: p.start)


# ------------------------------------------------------------------------ creating


def _lock(table: str) -> None:
    """Serialise maintenance of one table across workers (released at the end of the transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"partitions:{table}"])


def partitions_ensure(*, table: str, start: date | datetime, end: date | datetime) -> list[str]:
    """Create the monthly partitions covering ``start`` … ``end`` (both included) that are missing.

    Idempotent and safe to run from several workers at once; returns the names created.
    """
    first, last = month_start(start), month_start(end)
    created = []
    with transaction.atomic():
        _lock(table)
        existing = partitions(table)
        month = first
        while month <= last:
            lower, upper = _utc(month), _utc(add_months(month, 1))
            if not any(p.start < upper and lower < p.end for p in existing):
                name = partition_name(table, month)
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"CREATE TABLE {_q(name)} PARTITION OF {_q(table)} FOR VALUES FROM (%s) TO (%s)",
                        [lower.isoformat(), upper.isoformat()],
                    )
                created.append(name)
            month = add_months(month, 1)
    return created


def partitions_ensure_ahead(*, table: str, months_ahead: int | None = None, now: datetime | None = None) -> list[str]:
    """This month and the next ``months_ahead`` (``PARTITIONS_MONTHS_AHEAD``) exist afterwards."""
    ahead = settings.PARTITIONS_MONTHS_AHEAD if months_ahead is None else months_ahead
    current = month_start(now or timezone.now())
    return partitions_ensure(table=table, start=current, end=add_months(current, ahead))


# ------------------------------------------------------------------------ retention


@dataclass(frozen=True)
class Dropped:
    name: str
    start: datetime
    end: datetime
    rows: int


def partitions_drop_before(*, table: str, cutoff: datetime, count: bool = True) -> list[Dropped]:
    """Detach and drop every partition whose rows are all older than ``cutoff``; returns what went.

    Outside a transaction the detach is ``CONCURRENTLY`` (writers and readers of the other months
    go on); inside one (tests, a caller's atomic block) it is a plain detach, which takes a short
    exclusive lock on the parent. Each partition's rows are counted first, for the report
    (``count=False`` skips that scan; ``rows`` is then the planner's estimate).
    """
    dropped = []
    concurrently = not connection.in_atomic_block
    for part in partitions(table):
        if part.end > cutoff:
            continue
        with connection.cursor() as cursor:
            if count:
                cursor.execute(f"SELECT count(*) FROM {_q(part.name)}")  # noqa: S608 (a partition's name)
            else:
                cursor.execute(
                    "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)", [part.name]
                )
            rows = cursor.fetchone()[0]
            if concurrently:
                # A concurrent detach interrupted earlier (worker killed) left it pending: finish that one.
                cursor.execute("SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = to_regclass(%s)", [part.name])
                pending = cursor.fetchone()[0]
                mode = "FINALIZE" if pending else "CONCURRENTLY"
                cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(part.name)} {mode}")
                cursor.execute(f"DROP TABLE {_q(part.name)}")
            else:
                with transaction.atomic():
                    # Rows written earlier in this transaction may have deferred foreign-key checks
                    # queued on the partition, which blocks dropping it: run them now.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cursor.execute(f"ALTER TABLE {_q(table)} DETACH PARTITION {_q(part.name)}")
                    cursor.execute(f"DROP TABLE {_q(part.name)}")
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        dropped.append(Dropped(name=part.name, start=part.start, end=part.end, rows=rows))
    return dropped


def retention_cutoff(days: int, *, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


# ------------------------------------------------------------------------ the periodic job


@dataclass(frozen=True)
class MaintenanceReport:
    created: dict[str, list[str]]
    retention: dict[str, object]


def partitions_maintain(*, now: datetime | None = None) -> MaintenanceReport:
    """Create the months ahead of every registered partitioned table, then run every retention job."""
    created = {
        entry.table: partitions_ensure_ahead(table=entry.table, now=now)
        for entry in registries.partitioned_tables.entries()
        if is_partitioned(entry.table)
    }
    retention = {
        name: job()
        for name, job in zip(registries.retention_jobs.names(), registries.retention_jobs.entries(), strict=True)
    }
    return MaintenanceReport(created=created, retention=retention)


@dataclass(frozen=True)
class TableStatus:
    table: str
    partitioned: bool
    partitions: int
    oldest: date | None
    covered_until: date | None  # first month NOT covered
    months_ahead: int


def partitions_status(*, now: datetime | None = None) -> list[TableStatus]:
    """How each registered table is partitioned and how many whole months ahead are covered."""
    current = month_start(now or timezone.now())
    result = []
    for entry in registries.partitioned_tables.entries():
        parts = partitions(entry.table)
        month, ahead = current, -1
        while any(p.start <= _utc(month) < p.end for p in parts):
            ahead += 1
            month = add_months(month, 1)
        result.append(
            TableStatus(
                table=entry.table,
                partitioned=is_partitioned(entry.table),
                partitions=len(parts),
                oldest=month_start(parts[0].start) if parts else None,
                covered_until=month if parts else None,
                months_ahead=ahead,
            )
        )
    return result


# ------------------------------------------------------------------------ conversion (migrations)


def _fetch(cursor, sql: str, params=()) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _shape(cursor, table: str) -> dict:
    """What a conversion must carry over: indexes, constraints, triggers, identity."""
    oid = _fetch(cursor, "SELECT to_regclass(%s)::oid", [table])[0][0]
    referenced = _fetch(
        cursor, "SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE confrelid = %s", [oid]
    )
    if referenced:
        raise RuntimeError(f"{table} is referenced by foreign keys {referenced}: convert those first")
    return {
        "columns": [
            r[0]
            for r in _fetch(
                cursor,
                "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped "
                "AND attgenerated = '' ORDER BY attnum",
                [oid],
            )
        ],
        "indexes": _fetch(
            cursor,
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s AND NOT i.indisprimary ORDER BY c.relname",
            [oid],
        ),
        "pkey": _fetch(cursor, "SELECT conname FROM pg_constraint WHERE conrelid = %s AND contype = 'p'", [oid]),
        "foreign_keys": _fetch(
            cursor,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s AND contype = 'f' "
            "ORDER BY conname",
            [oid],
        ),
        "triggers": _fetch(
            cursor,
            "SELECT tgname, pg_get_triggerdef(oid), obj_description(oid, 'pg_trigger') FROM pg_trigger "
            "WHERE tgrelid = %s AND NOT tgisinternal AND tgparentid = 0 ORDER BY tgname",
            [oid],
        ),
        "identity": _fetch(
            cursor,
            "SELECT attname, attidentity FROM pg_attribute WHERE attrelid = %s AND attidentity <> ''",
            [oid],
        ),
    }


def _convert(
    cursor,
    *,
    table: str,
    column: str,
    partitioned: bool,
    fill: dict[str, str] | None,
    months_ahead: int,
    months_behind: int,
) -> None:
    q = connection.ops.quote_name
    old = f"{table}__old"
    shape = _shape(cursor, table)
    cursor.execute(f"LOCK TABLE {q(table)} IN ACCESS EXCLUSIVE MODE")
    identity = []
    for col, kind in shape["identity"]:
        seq = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, %s)", [table, col])[0][0]
        last, called = _fetch(cursor, f"SELECT last_value, is_called FROM {seq}")[0]  # noqa: S608
        identity.append((col, kind, last, called))
    # Free the names the new table takes: the table, its indexes, its primary key.
    cursor.execute(f"ALTER TABLE {q(table)} RENAME TO {q(old)}")
    for (pkey,) in shape["pkey"]:
        cursor.execute(f"ALTER TABLE {q(old)} RENAME CONSTRAINT {q(pkey)} TO {q(pkey + '__old')}")
    for name, _ in shape["indexes"]:
        cursor.execute(f"DROP INDEX {q(name)}")
    for col, *_ in identity:
        cursor.execute(f"ALTER TABLE {q(old)} ALTER COLUMN {q(col)} DROP IDENTITY")
    partition_clause = f" PARTITION BY RANGE ({q(column)})" if partitioned else ""
    cursor.execute(
        f"CREATE TABLE {q(table)} (LIKE {q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED "
        f"INCLUDING STORAGE INCLUDING COMMENTS INCLUDING STATISTICS){partition_clause}"
    )
    for col, kind, last, called in identity:
        mode = "ALWAYS" if kind == "a" else "BY DEFAULT"
        cursor.execute(f"ALTER TABLE {q(table)} ALTER COLUMN {q(col)} ADD GENERATED {mode} AS IDENTITY")
        seq = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, %s)", [table, col])[0][0]
        cursor.execute("SELECT setval(%s, %s, %s)", [seq, last, called])
    if partitioned:
        cursor.execute(f"SELECT min({q(column)}), max({q(column)}) FROM {q(old)}")  # noqa: S608
        lowest, highest = cursor.fetchone()
        now = timezone.now()
        start = min(filter(None, [lowest, now - timedelta(days=31 * months_behind)]))
        end = max(filter(None, [highest, _utc(add_months(month_start(now), months_ahead))]))
        partitions_ensure(table=table, start=start, end=end)
    columns = shape["columns"]
    select = ", ".join((fill or {}).get(c, q(c)) for c in columns)
    cursor.execute(
        f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) SELECT {select} FROM {q(old)}"  # noqa: S608
    )
    key = ["id", column] if partitioned else ["id"]
    for (pkey,) in shape["pkey"]:
        cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(pkey)} PRIMARY KEY ({', '.join(map(q, key))})")
    for _, definition in shape["indexes"]:
        cursor.execute(definition)
    cursor.execute(f"DROP TABLE {q(old)}")  # its foreign keys and triggers go with it; their names are free
    for name, definition in shape["foreign_keys"]:
        cursor.execute(f"ALTER TABLE {q(table)} ADD CONSTRAINT {q(name)} {definition}")
    for name, definition, comment in shape["triggers"]:
        cursor.execute(definition)
        if comment is not None:
            cursor.execute(f"COMMENT ON TRIGGER {q(name)} ON {q(table)} IS %s", [comment])


def table_partition(
    schema_editor,
    *,
    table: str,
    column: str,
    fill: dict[str, str] | None = None,
    months_ahead: int = 3,
    months_behind: int = 24,
) -> None:
    """Convert ``table`` into a table partitioned by month on ``column``, keeping every row (a migration step).

    Partitions cover the months of the existing rows, ``months_behind`` months back and
    ``months_ahead`` months ahead. ``fill`` maps a column to an SQL expression used when copying
    (a backfill on the way). A no-op when the table is partitioned already.
    """
    if is_partitioned(table):
        return
    with schema_editor.connection.cursor() as cursor:
        _convert(
            cursor,
            table=table,
            column=column,
            partitioned=True,
            fill=fill,
            months_ahead=months_ahead,
            months_behind=months_behind,
        )


def table_unpartition(schema_editor, *, table: str, column: str) -> None:
    """The reverse of ``table_partition``: one plain table again, every row kept, primary key ``(id)``."""
    if not is_partitioned(table):
        return
    with schema_editor.connection.cursor() as cursor:
        _convert(cursor, table=table, column=column, partitioned=False, fill=None, months_ahead=0, months_behind=0)
