"""The event log API's services: batch ingestion, retention by month, GDPR export/erasure.

``events_ingest`` validates a whole batch before writing anything: one bad event
rejects the batch with field messages keyed ``"<index>.<field>"``. Each event goes
through a compiled validator (fastjsonschema); only an event it refuses is explained
field by field. The batch is then written with ids taken from the table's sequence
(one statement) and one ``COPY`` (one statement, atomic on its own).
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import fastjsonschema
import jsonschema
import pgtrigger
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from engagement.models import Event
from focusedroom import bounds, partitions, registries
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError, PermissionDenied

logger = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_METADATA_BYTES = 16_384
MAX_PAST = timedelta(days=30)
MAX_FUTURE = timedelta(minutes=5)
APPEND_ONLY = "engagement.Event:append_only"

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["event_type"],
    "properties": {
        "event_type": {"type": "string", "pattern": "^[a-z][a-z0-9_.:-]{0,63}$"},
        "user": {"type": "integer", "minimum": 1},
        "anonymous_id": {"type": "string", "maxLength": 64},
        "brand": {"type": "string", "minLength": 1, "maxLength": 255},
        "metadata": {"type": "object"},
        "experiment_context": {"type": "string", "maxLength": 100},
        "variant_context": {"type": "string", "maxLength": 100},
        "page_url": {"type": "string", "maxLength": 2000},
        "product": {"type": "integer", "minimum": 1},
        "points_awarded": {"type": "integer", "minimum": -1_000_000, "maximum": 1_000_000},
        "session_identifier": {"type": "string", "maxLength": 64},
        "created_at": {"type": "string", "minLength": 1},
    },
}
# The compiled validator decides; the interpreted one explains a refused event field by field.
_FAST_VALIDATE = fastjsonschema.compile(EVENT_SCHEMA)
_VALIDATOR = jsonschema.Draft202012Validator(EVENT_SCHEMA)
_INTEGER_FIELDS = ("user", "product", "points_awarded")
_SCHEMA_MESSAGES = {
    "required": "This field is required.",
    "additionalProperties": "Unknown field.",
    "pattern": "Use lower-case letters, digits and _ . : - (up to 64 characters), starting with a letter.",
    "type": "Wrong type.",
}


def _schema_errors(index: int, item: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(item, dict):
        errors.setdefault(str(index), []).append("Each event must be a JSON object.")
        return
    try:
        _FAST_VALIDATE(item)
    except fastjsonschema.JsonSchemaValueException as refused:
        before = len(errors)
        _explain(index, item, errors)
        if len(errors) == before:  # only the compiled validator's reading refuses it (e.g. "a\n" for ^…$)
            field = refused.name.removeprefix("data").lstrip(".").split(".")[0]
            message = _SCHEMA_MESSAGES.get(refused.rule or "", refused.message)
            errors.setdefault(f"{index}.{field}" if field else str(index), []).append(message)


def _explain(index: int, item: dict, errors: dict[str, list[str]]) -> None:
    for err in _VALIDATOR.iter_errors(item):
        if err.validator == "required":
            field = err.message.split("'")[1]
        elif err.validator == "additionalProperties":
            for extra in sorted(set(item) - set(EVENT_SCHEMA["properties"])):
                errors.setdefault(f"{index}.{extra}", []).append(_SCHEMA_MESSAGES["additionalProperties"])
            continue
        else:
            field = str(err.absolute_path[0]) if err.absolute_path else ""
        message = _SCHEMA_MESSAGES.get(err.validator, err.message)
        if err.validator == "type":
            message = f"Expected {err.validator_value}."
        errors.setdefault(f"{index}.{field}" if field else str(index), []).append(message)


def _when(value: str, now: datetime) -> datetime | str:
    try:
        parsed = bounds.parse_datetime(value)
    except ValueError as exc:
        return str(exc)
    if parsed is None:
        return "Use an ISO 8601 date and time."
    if timezone.is_naive(parsed):
        return "Give a time zone (e.g. Z or +02:00)."
    if parsed > now + MAX_FUTURE:
        return "This time is in the future."
    if parsed < now - MAX_PAST:
        return f"Events older than {MAX_PAST.days} days are not accepted."
    return parsed


def events_ingest(
    *, payload: Any, actor, may_post_for_anyone: bool, context: RequestContext | None = None
) -> list[int]:
    """Validate and store one event (an object) or a batch (a list of up to 500 objects); returns the ids.

    A member (``may_post_for_anyone`` false) posts events about themselves: ``user`` may
    be omitted or be their own id, ``points_awarded`` is refused. A trusted API client
    posts for anyone and names the ``user`` or ``anonymous_id`` of each event.

    Nothing is written unless every event is valid. The write is two statements: the ids
    from the table's sequence, then one ``COPY`` of the batch — atomic on its own, so no
    transaction is opened for it (inside a caller's transaction it joins it).
    """
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise ApplicationError("Send at least one event.", fields={"non_field_errors": ["The batch is empty."]})
    if len(items) > MAX_BATCH:
        raise ApplicationError(
            f"A batch holds at most {MAX_BATCH} events.",
            fields={"non_field_errors": [f"A batch holds at most {MAX_BATCH} events; this one has {len(items)}."]},
        )
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    forbidden: dict[str, list[str]] = {}
    times: dict[int, datetime] = {}
    metadata: dict[int, str] = {}
    actor_pk = actor.pk
    for i, item in enumerate(items):
        if isinstance(item, dict):
            for key in _INTEGER_FIELDS:  # JSON 1.0 is the integer 1 to the schema: store it as one
                value = item.get(key)
                if isinstance(value, float) and value.is_integer():
                    item[key] = int(value)
        _schema_errors(i, item, errors)
        if not isinstance(item, dict):
            continue
        if "metadata" in item:
            metadata[i] = json.dumps(item["metadata"])
            if len(metadata[i]) > MAX_METADATA_BYTES:
                errors.setdefault(f"{i}.metadata", []).append(f"At most {MAX_METADATA_BYTES} bytes of JSON.")
        if isinstance(item.get("created_at"), str):
            when = _when(item["created_at"], now)
            if isinstance(when, str):
                errors.setdefault(f"{i}.created_at", []).append(when)
            else:
                times[i] = when
        if may_post_for_anyone:
            if not item.get("user") and not item.get("anonymous_id"):
                errors.setdefault(f"{i}.user", []).append("Give the person (user) or the visitor (anonymous_id).")
        else:
            if item.get("user") not in (None, actor_pk):
                forbidden.setdefault(f"{i}.user", []).append("You can only post your own events.")
            if item.get("points_awarded"):
                errors.setdefault(f"{i}.points_awarded", []).append("Only trusted clients may record points.")
    if forbidden:
        raise PermissionDenied("You can only post your own events.", fields=forbidden, extra=_first_index(forbidden))
    dicts = [item for item in items if isinstance(item, dict)]
    _check_references(items, dicts, errors)
    if errors:
        raise ApplicationError(
            "Some events are invalid; nothing was stored.", fields=errors, extra=_first_index(errors)
        )

    brands = accounts_selectors.brand_ids_by_slug(d["brand"] for d in dicts if "brand" in d)
    context = context or RequestContext.system()
    ip, user_agent, device_type = context.ip, context.user_agent, context.device_type
    ids, default_brand_id = _ids_reserve(len(items))
    rows = [
        (
            ids[i],
            item["event_type"],
            item.get("user") if may_post_for_anyone else actor_pk,
            item.get("anonymous_id", ""),
            # A batch that names no brand is the default brand's.
            brands.get(item.get("brand"), default_brand_id),
            metadata.get(i, "{}"),
            item.get("experiment_context", ""),
            item.get("variant_context", ""),
            item.get("page_url", ""),
            item.get("product"),
            item.get("points_awarded", 0),
            ip,
            user_agent,
            device_type,
            item.get("session_identifier", ""),
            times.get(i, now),
        )
        for i, item in enumerate(items)
    ]
    _copy(rows)
    return ids


_COPY_COLUMNS = (
    "id",
    "event_type",
    "user_id",
    "anonymous_id",
    "brand_id",
    "metadata",
    "experiment_context",
    "variant_context",
    "page_url",
    "product_id",
    "points_awarded",
    "ip_address",
    "user_agent",
    "device_type",
    "session_identifier",
    "created_at",
)


def _ids_reserve(n: int) -> tuple[list[int], int | None]:
    """``n`` ids from the event table's sequence and the default brand's id, in one statement."""
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(s.seq), d.id FROM (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) s, "
            "(SELECT accounts_default_brand_id() AS id) d, generate_series(1, %s)",
            [table, n],
        )
        rows = cursor.fetchall()
        return [row[0] for row in rows], (rows[0][1] if rows else None)


def _copy(rows: list[tuple]) -> None:
    """Write the rows with one ``COPY … FROM STDIN`` (psycopg 3), logged like any other query."""
    quote = connection.ops.quote_name
    sql = f"COPY {quote(Event._meta.db_table)} ({', '.join(quote(c) for c in _COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor:
        debug = getattr(cursor, "debug_sql", None)  # the debug cursor (DEBUG, query-count tests) logs it
        with debug(sql) if debug else contextlib.nullcontext(), cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


def _first_index(errors: dict[str, list[str]]) -> dict[str, int]:
    return {"index": min(int(key.split(".")[0]) for key in errors)}


def _check_references(items: list, dicts: list[dict], errors: dict[str, list[str]]) -> None:
    """One query per referenced table, whatever the batch size.

    Products belong to a higher app, which registers a checker in ``registries.event_references``.
    """

    def ids(key: str, kind: type) -> set:
        """The values of ``key`` that can name a row (a wrong type already has its schema error)."""
        values = {d[key] for d in dicts if isinstance(d.get(key), kind) and not isinstance(d.get(key), bool)}
        return {v for v in values if 0 < v <= bounds.BIGINT_MAX} if kind is int else values

    wanted_users, wanted_products, wanted_brands = ids("user", int), ids("product", int), ids("brand", str)
    known_users = accounts_selectors.person_ids_existing(wanted_users) if wanted_users else set()
    known_products: set = set()
    if wanted_products:
        check_products = registries.event_references.get("product")
        known_products = set(check_products(wanted_products)) if check_products else set()
    known_brands = set(accounts_selectors.brand_ids_by_slug(wanted_brands)) if wanted_brands else set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        for key, known, message in (
            ("user", known_users, "Unknown person."),
            ("product", known_products, "Unknown product."),
            ("brand", known_brands, "Unknown brand."),
        ):
            value = item.get(key)
            if value is not None and f"{i}.{key}" not in errors and value not in known and isinstance(value, int | str):
                errors.setdefault(f"{i}.{key}", []).append(message)


def events_prune(*, older_than_days: int) -> int:
    """Retention: drop the months of the event log whose events are all older than ``older_than_days``.

    Whole monthly partitions are detached and dropped (``focusedroom.partitions``): no row is
    deleted one by one and the append-only trigger is never lifted; a month stays until its newest
    event is past the retention. Keeps at least the window the event API accepts writes into.
    Returns the number of events dropped (the months dropped are logged).
    """
    if older_than_days <= MAX_PAST.days:
        raise ApplicationError(
            f"Keep more than {MAX_PAST.days} days of events (the event API accepts events up to that old).",
            fields={"older_than": [f"Must be more than {MAX_PAST.days}."]},
        )
    dropped = partitions.partitions_drop_before(
        table=Event._meta.db_table, cutoff=partitions.retention_cutoff(older_than_days)
    )
    if dropped:
        logger.info("event retention: dropped %s", ", ".join(f"{d.name} ({d.rows} events)" for d in dropped))
    return sum(d.rows for d in dropped)


def events_retention() -> int | None:
    """The daily retention job: ``EVENTS_RETENTION_DAYS`` (0 keeps every event)."""
    days = settings.EVENTS_RETENTION_DAYS
    return events_prune(older_than_days=days) if days else None


# ------------------------------------------------------------------------ GDPR


def events_export(*, user) -> list[dict[str, Any]]:
    return list(
        Event.objects.filter(user=user)
        .order_by("created_at", "id")
        .values(
            "created_at",
            "event_type",
            "anonymous_id",
            "metadata",
            "experiment_context",
            "variant_context",
            "page_url",
            "product_id",
            "points_awarded",
            "ip_address",
            "user_agent",
            "device_type",
        )
    )


def events_erase(*, user) -> int:
    """Pseudonymise a person's events: counts, types, times and points stay; what identifies them goes."""
    with transaction.atomic(), pgtrigger.ignore(APPEND_ONLY):
        return Event.objects.filter(user=user).update(
            ip_address=None, user_agent="", page_url="", metadata={}, session_identifier="", anonymous_id=""
        )
