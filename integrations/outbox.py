"""The outbox worker: claims due messages, delivers them, records the outcome.

Who runs it: the task engine. Writing an outbox row wakes the ``integrations.deliver_outbox``
job in the same transaction (one waiting job at most: a queueing lock), and the periodic
``integrations.sweep_outbox`` (every minute) picks up what the row's own schedule makes due
later — retries whose ``next_attempt_at`` has come, leases of dead workers that expired, rows
waiting for credentials. Both call :func:`outbox_deliver_due`; so does ``manage.py
process_outbox`` (ops). Retries follow the row's ``next_attempt_at`` (backoff below), not the
engine's retry: the row stays the one record of what is owed to whom, and a job that fails
loses nothing, the next sweep finds the row.

Exactly once per idempotency key: a row is delivered by one worker at a time (the lease), and
every request carries the row's ``idempotency_key`` (a ULID: Customer.io drops an event whose
id it already has; the fakes do the same for every request). A worker killed between the
provider's answer and the outcome's write leaves the row ``processing``; once the lease expires
another worker sends it again with the same key, and the provider keeps one.

Claiming is one statement in its own transaction::

    UPDATE customer_io_event_queue … FROM (SELECT id … ORDER BY priority, created_at
                                          LIMIT n FOR UPDATE OF m SKIP LOCKED) due

It takes due rows (``pending`` whose ``next_attempt_at`` has come, or ``processing``
whose lease ``locked_until`` has expired because their worker died), skips rows another
worker is claiming at that moment, and marks them ``processing`` with a lease. The
claim commits before any HTTP call, so no lock is held while talking to the outside
world, and any number of workers can run side by side.

Delivery happens outside the claim transaction. Each outcome is written with a guard
``WHERE status = 'processing' AND locked_until = <our lease>``: a worker that lost its
lease never overwrites another worker's result. Before each HTTP call the worker checks
that enough of its lease is left to finish the call (twice the HTTP timeout plus a
second); otherwise it hands the row back instead of risking a second sender.

Outcomes: 2xx -> ``sent`` and ``processed_at``; 429, 5xx, timeouts and connection errors
-> back to ``pending`` with ``next_attempt_at`` pushed back by exponential backoff with
jitter, or ``failed`` once ``OUTBOX_MAX_ATTEMPTS`` attempts are used; other 4xx ->
``failed`` at once. Rows that must not be sent any more (marketing consent withdrawn,
person erased) are ``failed`` with the reason, without an HTTP call.

Rows whose destination has no credentials (a brand without a Customer.io site id and
API key, Kit without ``KIT_API_KEY``) are not claimed: they wait as ``pending`` and the
operator console says why.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts.selectors import DEFAULT_BRAND_SLUG
from integrations.customerio import CustomerIOClient
from integrations.http import DeliveryError, http_timeout
from integrations.kit import KitClient
from integrations.models import OutboxMessage
from integrations.services import may_join_kit, may_receive_marketing

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
Action = OutboxMessage.Action
Destination = OutboxMessage.Destination


def max_attempts() -> int:
    return settings.OUTBOX_MAX_ATTEMPTS


def backoff_seconds(attempt: int) -> float:
    """Delay before retry number ``attempt`` (1, 2, …): exponential, capped, with jitter.

    ``base * 2 ** (attempt - 1)`` capped at ``OUTBOX_BACKOFF_MAX_SECONDS``, then a random
    point in its upper half ("equal jitter"): retries keep growing but workers that
    failed together do not come back together.
    """
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS
    cap = settings.OUTBOX_BACKOFF_MAX_SECONDS
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return random.uniform(delay / 2, delay)


def minimum_lease_seconds() -> float:
    return 2 * http_timeout() + 1


class Skip(Exception):
    """The message must not be sent any more (it is failed with this reason)."""


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)


_CLAIM_SQL = """
UPDATE {queue} AS q
   SET status = 'processing',
       locked_until = statement_timestamp() + make_interval(secs => %(lease)s),
       attempt_count = q.attempt_count + 1,
       last_attempt_at = clock_timestamp()
  FROM (
        SELECT m.id
          FROM {queue} AS m
          LEFT JOIN {brand} AS b
            ON b.id = COALESCE(m.brand_id, (SELECT id FROM {brand} WHERE slug = %(default_brand)s))
         WHERE ((m.status = 'pending' AND m.next_attempt_at <= clock_timestamp())
                OR (m.status = 'processing' AND m.locked_until < clock_timestamp()))
           AND ((m.destination = 'customerio' AND b.customer_io_site_id <> '' AND b.customer_io_api_key <> '')
                OR (m.destination = 'kit' AND %(kit_ready)s))
         ORDER BY m.priority, m.created_at, m.id
         LIMIT %(limit)s
           FOR UPDATE OF m SKIP LOCKED
       ) AS due
 WHERE q.id = due.id
RETURNING q.id, q.locked_until
"""


def outbox_claim(*, batch_size: int, lease_seconds: float) -> list[tuple[int, datetime]]:
    """Claim up to ``batch_size`` due messages for ``lease_seconds``; commits at once."""
    sql = _CLAIM_SQL.format(queue=OutboxMessage._meta.db_table, brand=accounts_selectors.BRAND_TABLE)
    params = {
        "lease": float(lease_seconds),
        "default_brand": DEFAULT_BRAND_SLUG,
        "kit_ready": bool(settings.KIT_API_KEY),
        "limit": int(batch_size),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def person_attributes(user: User) -> dict[str, Any]:
    """The attributes Customer.io keeps about a person (sent on every identify)."""
    return {
        "email": user.email,
        "name": user.display_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "created_at": int(user.created_at.timestamp()),
        "channel_id": user.channel_id,
        "country_code": user.country_code,
        "time_zone": user.time_zone,
        "marketing_opt_in": user.marketing_opt_in,
        "email_verified": user.is_email_verified,
    }


class OutboxWorker:
    """Delivers claimed messages; one instance per worker process (it keeps HTTP connections)."""

    def __init__(self, *, batch_size: int = 100, lease_seconds: float = 60.0):
        if lease_seconds < minimum_lease_seconds():
            raise ValueError(
                f"The lease ({lease_seconds:g} s) must be longer than twice the HTTP timeout plus one second "
                f"({minimum_lease_seconds():g} s)."
            )
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.session = requests.Session()
        self._default_brand = None
        self._kit_tags: dict[str, str] = {}  # tag name -> Kit's id, found once per worker

    # ------------------------------------------------------------------ batch
    def process_batch(self) -> BatchResult:
        result = BatchResult()
        claimed = outbox_claim(batch_size=self.batch_size, lease_seconds=self.lease_seconds)
        deadline = time.monotonic() + self.lease_seconds - minimum_lease_seconds()
        result.claimed = len(claimed)
        if not claimed:
            return result
        leases = dict(claimed)
        messages = OutboxMessage.objects.select_related("user", "brand").filter(pk__in=leases)
        for message in sorted(messages, key=lambda m: (m.priority, m.created_at, m.pk)):
            lease = leases[message.pk]
            if time.monotonic() > deadline:
                outcome, written = "released", self._finish(message, lease, released=True)
            else:
                outcome, error = self._attempt(message)
                if error:
                    result.errors.append(error)
                status = {"sent": Status.SENT, "retried": Status.PENDING}.get(outcome, Status.FAILED)
                written = self._finish(message, lease, status=status, error=error)
            if written:
                setattr(result, outcome, getattr(result, outcome) + 1)
            else:
                result.lost += 1
        return result

    def _attempt(self, message: OutboxMessage) -> tuple[str, str]:
        """Deliver one message: ("sent" | "retried" | "failed", error message)."""
        try:
            self._deliver(message)
        except Skip as exc:
            return "failed", f"Not sent: {exc}"
        except DeliveryError as exc:
            if exc.retryable and message.attempt_count < max_attempts():
                return "retried", exc.message
            if exc.retryable:
                return "failed", f"Gave up after {message.attempt_count} attempts: {exc.message}"
            return "failed", exc.message
        return "sent", ""

    def _finish(
        self, message: OutboxMessage, lease: datetime, *, status: str = "", error: str = "", released: bool = False
    ) -> int:
        """Write the outcome if the lease is still ours; returns 1 when written."""
        now = timezone.now()
        fields: dict[str, Any]
        if released:
            fields = {"status": Status.PENDING, "locked_until": None, "attempt_count": F("attempt_count") - 1}
        elif status == Status.SENT:
            fields = {"status": Status.SENT, "processed_at": now, "locked_until": None, "last_error": ""}
        elif status == Status.PENDING:
            delay = backoff_seconds(message.attempt_count)
            fields = {
                "status": Status.PENDING,
                "locked_until": None,
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error": error[:2000],
            }
        else:
            fields = {"status": Status.FAILED, "locked_until": None, "last_error": error[:2000]}
        with transaction.atomic():
            written = OutboxMessage.objects.filter(pk=message.pk, status=Status.PROCESSING, locked_until=lease).update(
                **fields
            )
            if written and status == Status.SENT and getattr(message, "_kit_subscriber_id", None):
                from accounts.services import person_set_kit_subscription

                person_set_kit_subscription(user=message.user, subscriber_id=message._kit_subscriber_id, state="active")
        if not written:
            logger.warning("outbox message %s: lease lost before its outcome was written", message.pk)
        return int(written)

    # --------------------------------------------------------------- delivery
    def default_brand(self):
        if self._default_brand is None:
            self._default_brand = accounts_selectors.brand_by_slug(DEFAULT_BRAND_SLUG, active_only=False)
        return self._default_brand

    def _deliver(self, message: OutboxMessage) -> None:
        user = message.user
        if user is not None and message.action not in (Action.DELETE, Action.SUBSCRIBER_DELETE):
            if user.deleted_at is not None:
                raise Skip("the person was erased.")
            if message.is_marketing and not may_receive_marketing(user):
                raise Skip("the person withdrew marketing consent before delivery.")
        if message.destination == Destination.CUSTOMERIO:
            self._deliver_customerio(message)
        elif message.destination == Destination.KIT:
            self._deliver_kit(message)
        else:
            raise Skip(f"unknown destination {message.destination!r}.")

    def _deliver_customerio(self, message: OutboxMessage) -> None:
        brand = message.brand or self.default_brand()
        if brand is None or not brand.has_customer_io_credentials:
            raise DeliveryError("The brand has no Customer.io credentials.", retryable=True)
        client = CustomerIOClient(
            site_id=brand.customer_io_site_id, api_key=brand.customer_io_api_key, session=self.session
        )
        user = message.user
        data = message.event_data or {}
        key = message.idempotency_key
        if message.action == Action.IDENTIFY:
            if user is None:
                raise Skip("an identify message needs a person.")
            # An audience message carries only its own attributes (``{"<key>": true}``, or null to remove it).
            extra = data["attributes"] if isinstance(data.get("attributes"), dict) else data
            client.identify(
                customer_id=str(user.pk), attributes={**person_attributes(user), **extra}, idempotency_key=key
            )
        elif message.action == Action.EVENT:
            if user is None:
                client.track_anonymous(name=message.event_name, data=data, idempotency_key=key)
            else:
                client.track(customer_id=str(user.pk), name=message.event_name, data=data, idempotency_key=key)
        elif message.action == Action.DELETE:
            customer_id = data.get("customer_id") or (user.pk if user else None)
            if customer_id is None:
                raise Skip("a delete message needs a person.")
            client.delete(customer_id=str(customer_id), idempotency_key=key)
        else:
            raise Skip(f"Customer.io does not take {message.action!r} messages.")

    def _deliver_kit(self, message: OutboxMessage) -> None:
        client = KitClient(session=self.session)
        user = message.user
        if message.action == Action.SUBSCRIBER_UPSERT:
            if user is None:
                raise Skip("a subscriber message needs a person.")
            if not may_join_kit(user):
                raise Skip("Kit only receives people who opted in and verified their email.")
            message._kit_subscriber_id = client.upsert_subscriber(
                email=user.email, first_name=user.first_name, idempotency_key=message.idempotency_key
            )
        elif message.action == Action.SUBSCRIBER_DELETE:
            subscriber_id = (message.event_data or {}).get("subscriber_id")
            if not subscriber_id:
                raise Skip("no Kit subscriber id to unsubscribe.")
            client.unsubscribe(subscriber_id=str(subscriber_id), idempotency_key=message.idempotency_key)
        elif message.action in (Action.TAG_ADD, Action.TAG_REMOVE):
            tag = (message.event_data or {}).get("audience")
            if user is None or not tag:
                raise Skip("a tag message needs a person and a tag.")
            if message.action == Action.TAG_ADD and not may_join_kit(user):
                raise Skip("Kit only receives people who opted in and verified their email.")
            tag_id = self._kit_tags.get(tag) or client.tag_id(name=tag)
            self._kit_tags[tag] = tag_id
            if message.action == Action.TAG_ADD:
                try:
                    client.tag_subscriber(tag_id=tag_id, email=user.email)
                except DeliveryError as exc:
                    if exc.status != 404:
                        raise
                    # Not on the list yet (the subscription is still queued): subscribe, then tag.
                    message._kit_subscriber_id = client.upsert_subscriber(email=user.email, first_name=user.first_name)
                    client.tag_subscriber(tag_id=tag_id, email=user.email)
            else:
                client.untag_subscriber(tag_id=tag_id, email=user.email)
        else:
            raise Skip(f"Kit does not take {message.action!r} messages.")


def run_worker(
    *,
    batch_size: int,
    lease_seconds: float,
    sleep_seconds: float,
    once: bool,
    should_stop=lambda: False,
    log=logger.info,
) -> BatchResult:
    """Process batches until there is nothing due (``once``) or until ``should_stop()``."""
    worker = OutboxWorker(batch_size=batch_size, lease_seconds=lease_seconds)
    total = BatchResult()
    while not should_stop():
        result = worker.process_batch()
        for name in ("claimed", "sent", "retried", "failed", "released", "lost"):
            setattr(total, name, getattr(total, name) + getattr(result, name))
        if result.claimed:
            log(
                f"outbox: claimed {result.claimed}, sent {result.sent}, retried {result.retried}, "
                f"failed {result.failed}, released {result.released}"
            )
        if result.claimed < batch_size:
            if once:
                break
            connection.close()  # do not hold a connection while idle
            deadline = time.monotonic() + sleep_seconds
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(0.5, sleep_seconds))
    return total


def outbox_deliver_due(*, batch_size: int | None = None, lease_seconds: float | None = None) -> BatchResult:
    """Deliver every message due now, batch after batch, then return (the tasks and ``process_outbox --once``)."""
    return run_worker(
        batch_size=batch_size or settings.OUTBOX_BATCH_SIZE,
        lease_seconds=lease_seconds or max(settings.OUTBOX_LEASE_SECONDS, minimum_lease_seconds()),
        sleep_seconds=0,
        once=True,
    )
