"""Inbound webhooks from Customer.io and Kit: signature checks and processing.

Customer.io signs ``v0:<X-CIO-Timestamp>:<raw body>`` with HMAC-SHA256 and the
workspace's webhook signing key (``CUSTOMERIO_WEBHOOK_SIGNING_SECRET``), hex in
``X-CIO-Signature``. Kit sends ``X-Kit-Signature: t=<ts>,v1=<hex>[,v1=<hex>…]`` where
each ``v1`` is HMAC-SHA256 of ``<ts>.<raw body>`` with ``KIT_WEBHOOK_SECRET`` (several
``v1`` values while a secret rotates). Both are checked on the raw bytes received (a body
parsed and serialised again does not match), compared in constant time, and refused when
the timestamp is more than ``WEBHOOK_TOLERANCE_SECONDS`` (300) away from now.

A refused delivery has no effect on anyone's data; it is counted in ``webhook_refusal``
(one row per source, reason, source address and hour, capped in addresses, so
unauthenticated requests cannot fill a table) and shown in the console. An authenticated
delivery is logged in ``customer_io_webhook_log`` and processed in one transaction; a valid
replay of an event already received adds no row: it counts on the event's row
(``replay_count``, ``last_replayed_at``) and changes nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import jsonschema
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from accounts.selectors import KitState
from focusedroom.context import RequestContext
from integrations.models import AIProfile, WebhookLog, WebhookRefusal

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

Source = WebhookLog.Source


def tolerance_seconds() -> int:
    return settings.WEBHOOK_TOLERANCE_SECONDS


Reason = WebhookRefusal.Reason


class SignatureError(Exception):
    def __init__(self, message: str, reason: str = Reason.BAD_SIGNATURE):
        super().__init__(message)
        self.reason = reason


def _fresh(timestamp: str, now: float | None) -> int:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError("The timestamp is missing or not a number.", Reason.BAD_TIMESTAMP) from None
    if abs((now if now is not None else time.time()) - ts) > tolerance_seconds():
        raise SignatureError("The timestamp is outside the replay window.", Reason.BAD_TIMESTAMP)
    return ts


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def customerio_sign(*, secret: str, timestamp: int | str, body: bytes) -> str:
    return _hmac_hex(secret, b"v0:" + str(timestamp).encode() + b":" + body)


def kit_sign(*, secret: str, timestamp: int | str, body: bytes) -> str:
    return _hmac_hex(secret, str(timestamp).encode() + b"." + body)


def customerio_verify(*, body: bytes, timestamp: str | None, signature: str | None, now: float | None = None) -> None:
    secret = settings.CUSTOMERIO_WEBHOOK_SIGNING_SECRET
    if not secret:
        raise SignatureError("No Customer.io webhook signing secret is configured.", Reason.NOT_CONFIGURED)
    ts = _fresh(timestamp or "", now)
    expected = customerio_sign(secret=secret, timestamp=ts, body=body)
    if not hmac.compare_digest(expected, (signature or "").strip().lower()):
        raise SignatureError("The signature does not match.")


def kit_verify(*, body: bytes, header: str | None, now: float | None = None) -> int:
    secret = settings.KIT_WEBHOOK_SECRET
    if not secret:
        raise SignatureError("No Kit webhook secret is configured.", Reason.NOT_CONFIGURED)
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            candidates.append(value.lower())
    ts = _fresh(timestamp or "", now)
    expected = kit_sign(secret=secret, timestamp=ts, body=body)
    # Compare with every candidate (no early exit on the first match).
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    if not any(matches):
        raise SignatureError("No v1 signature matches.")
    return ts


# ------------------------------------------------------------------ payloads

CUSTOMERIO_SCHEMA = {
    "type": "object",
    "required": ["event_id", "metric", "data"],
    "properties": {
        "event_id": {"type": "string", "minLength": 1, "maxLength": 255},
        "object_type": {"type": "string"},
        "metric": {"type": "string", "minLength": 1, "maxLength": 100},
        "timestamp": {"type": "integer"},
        "data": {
            "type": "object",
            "properties": {
                "customer_id": {"type": ["string", "integer"]},
                "email_address": {"type": "string"},
                "identifiers": {"type": "object"},
                "predictions": {
                    "type": "object",
                    "properties": {
                        "churn_probability": {"type": "number", "minimum": 0, "maximum": 1},
                        "purchase_probability": {"type": "number", "minimum": 0, "maximum": 1},
                        "engagement_score": {"type": "number", "minimum": 0, "maximum": 1},
                        "predicted_lifetime_value": {"type": "number", "minimum": 0, "maximum": 99999999},
                        "recommended_segment": {"type": "string", "maxLength": 100},
                        "next_best_action": {"type": "string", "maxLength": 100},
                    },
                },
                "segment": {"type": "string", "maxLength": 100},
            },
        },
    },
}

KIT_SCHEMA = {
    "type": "object",
    "required": ["subscriber"],
    "properties": {
        "id": {"type": ["string", "integer"]},
        "event": {"type": "string", "maxLength": 100},
        "subscriber": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": ["string", "integer"]},
                "email_address": {"type": "string"},
                "state": {"type": "string"},
            },
        },
    },
}

KIT_EVENT_STATES = {
    "subscriber.subscriber_activate": KitState.ACTIVE,
    "subscriber.subscriber_unsubscribe": KitState.CANCELLED,
    "subscriber.subscriber_bounce": KitState.BOUNCED,
    "subscriber.subscriber_complain": KitState.COMPLAINED,
}
CUSTOMERIO_PREDICTION_METRICS = {"prediction_update", "segment_change"}


@dataclass
class Outcome:
    status: int
    log: WebhookLog | None
    message: str
    duplicate: bool = False


class PayloadError(Exception):
    pass


def _parse(body: bytes, schema: dict) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"The body is not JSON: {exc}") from None
    try:
        jsonschema.validate(payload, schema)
    except jsonschema.ValidationError as exc:
        path = ".".join(str(p) for p in exc.absolute_path) or "body"
        raise PayloadError(f"{path}: {exc.message}") from None
    return payload


def _insert_log(**fields) -> tuple[WebhookLog, bool]:
    """Insert the event's log row, or — a replay of an event already received — count the replay on
    the existing row (no new row). Returns ``(row, replayed)``; the row is locked."""
    try:
        with transaction.atomic():
            return WebhookLog.objects.create(**fields), False
    except IntegrityError:
        original = WebhookLog.objects.select_for_update().get(
            source=fields["source"], event_id=fields["event_id"], is_duplicate=False
        )
        now = timezone.now()
        WebhookLog.objects.filter(pk=original.pk).update(replay_count=F("replay_count") + 1, last_replayed_at=now)
        original.refresh_from_db(fields=["replay_count", "last_replayed_at"])
        return original, True


@transaction.atomic
def webhook_refusal_record(*, source: str, reason: str, message: str, source_address: str | None) -> WebhookRefusal:
    """Count a refused delivery (reason, source address, hour) for the console."""
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    address = (source_address or "")[:45]
    this_hour = WebhookRefusal.objects.filter(hour=hour)
    if (
        address
        and not this_hour.filter(source_address=address).exists()
        and this_hour.values("source_address").distinct().count() >= WebhookRefusal.MAX_ADDRESSES_PER_HOUR
    ):
        address = ""  # the hour's address budget is spent: counted with the other addresses
    key = {"source": source, "reason": reason, "source_address": address, "hour": hour}
    changes = {"count": F("count") + 1, "last_seen_at": now, "last_message": message[:255]}
    if not WebhookRefusal.objects.filter(**key).update(**changes):
        try:
            with transaction.atomic():
                return WebhookRefusal.objects.create(
                    **key, first_seen_at=now, last_seen_at=now, last_message=message[:255]
                )
        except IntegrityError:  # a parallel refusal made the row first
            WebhookRefusal.objects.filter(**key).update(**changes)
    return WebhookRefusal.objects.get(**key)


def _refused(source: str, exc: SignatureError, source_address: str | None) -> Outcome:
    logger.warning("%s webhook refused from %s: %s", source, source_address or "unknown address", exc)
    webhook_refusal_record(source=source, reason=exc.reason, message=str(exc), source_address=source_address)
    return Outcome(401, None, str(exc))


@transaction.atomic
def _log_rejected(source: str, body: bytes, error: str) -> WebhookLog:
    """An authenticated delivery whose body we cannot use: logged (a replay counted), nothing else."""
    return _insert_log(
        source=source,
        webhook_type="invalid",
        event_id="invalid:" + hashlib.sha256(body).hexdigest(),
        payload={"raw": body[:4000].decode(errors="replace")},
        processed_successfully=False,
        error_message=error,
        processed_at=timezone.now(),
    )[0]


def _record(*, source: str, webhook_type: str, event_id: str, payload: dict, handler) -> Outcome:
    """Log the delivery (the first one makes the row, replays only count on it) and run ``handler`` once."""
    with transaction.atomic():
        log, replayed = _insert_log(
            source=source, webhook_type=webhook_type, event_id=event_id, payload=payload, processed_successfully=True
        )
        if replayed:
            return Outcome(200, log, "Duplicate delivery: already received, ignored.", duplicate=True)
        try:
            with transaction.atomic():
                user, message = handler(log)
        except ProcessingError as exc:
            log.processed_successfully, log.error_message = False, str(exc)
            user, message = exc.user, str(exc)
        log.user = user
        log.processed_at = timezone.now()
        log.save(update_fields=["user", "processed_successfully", "error_message", "processed_at"])
        return Outcome(200, log, message)


class ProcessingError(Exception):
    def __init__(self, message: str, user: User | None = None):
        super().__init__(message)
        self.user = user


# ---------------------------------------------------------------- Customer.io


def _customerio_person(data: dict) -> User:
    customer_id = data.get("customer_id") or (data.get("identifiers") or {}).get("id")
    email = data.get("email_address") or (data.get("identifiers") or {}).get("email")
    user = None
    if customer_id is not None and str(customer_id).isdigit():
        user = accounts_selectors.person_get(int(customer_id))
    if user is None and email:
        user = accounts_selectors.person_by_email(str(email))
    if user is None:
        raise ProcessingError(f"No person matches customer {customer_id!r} / {email!r}.")
    return user


def customerio_receive(
    *, body: bytes, timestamp: str | None, signature: str | None, source_address: str | None = None
) -> Outcome:
    """Verify and process one Customer.io webhook delivery."""
    try:
        customerio_verify(body=body, timestamp=timestamp, signature=signature)
    except SignatureError as exc:
        return _refused(Source.CUSTOMERIO, exc, source_address)
    try:
        payload = _parse(body, CUSTOMERIO_SCHEMA)
    except PayloadError as exc:
        return Outcome(400, _log_rejected(Source.CUSTOMERIO, body, str(exc)), str(exc))
    metric = payload["metric"]

    def handle(log: WebhookLog):
        user = _customerio_person(payload["data"])
        if metric == "unsubscribed":
            accounts_services.person_withdraw_marketing_consent(
                user=user, source="customerio", context=RequestContext.system(source="webhook")
            )
            return user, "Marketing consent withdrawn."
        if metric in ("bounced", "spammed"):
            accounts_services.person_record_email_problem(user=user, problem=metric)
            return user, f"Email problem recorded ({metric})."
        if metric in CUSTOMERIO_PREDICTION_METRICS:
            ai_profile_apply_predictions(user=user, payload=payload)
            return user, "AI profile updated."
        raise ProcessingError(f"Metric {metric!r} is not handled.", user=user)

    return _record(
        source=Source.CUSTOMERIO, webhook_type=metric, event_id=payload["event_id"], payload=payload, handler=handle
    )


def ai_profile_apply_predictions(*, user: User, payload: dict) -> AIProfile:
    """Store Customer.io's predictions; they win over computed values until newer events arrive."""
    data = payload["data"]
    predictions = dict(data.get("predictions") or {})
    if "segment" in data:
        predictions["recommended_segment"] = data["segment"]
    stamp = payload.get("timestamp")
    predicted_at = datetime.fromtimestamp(stamp, tz=UTC) if stamp else timezone.now()
    profile, _ = AIProfile.objects.select_for_update().get_or_create(user=user)
    if profile.customerio_predicted_at and profile.customerio_predicted_at > predicted_at:
        return profile  # an older prediction arriving late changes nothing
    stored = dict((profile.ai_insights or {}).get("customerio") or {})
    stored.update(predictions)
    stored["predicted_at"] = predicted_at.isoformat()
    profile.ai_insights = {**(profile.ai_insights or {}), "customerio": stored}
    for name, value in predictions.items():
        if name in ("recommended_segment", "next_best_action"):
            setattr(profile, name, str(value))
        else:
            places = Decimal("0.01") if name == "predicted_lifetime_value" else Decimal("0.0001")
            try:
                setattr(profile, name, Decimal(str(value)).quantize(places))
            except InvalidOperation:
                continue
    profile.customerio_predicted_at = predicted_at
    profile.last_synced_at = timezone.now()
    profile.save()
    return profile


# ------------------------------------------------------------------------ Kit


def kit_receive(*, body: bytes, header: str | None, source_address: str | None = None) -> Outcome:
    """Verify and process one Kit webhook delivery."""
    try:
        ts = kit_verify(body=body, header=header)
    except SignatureError as exc:
        return _refused(Source.KIT, exc, source_address)
    try:
        payload = _parse(body, KIT_SCHEMA)
    except PayloadError as exc:
        return Outcome(400, _log_rejected(Source.KIT, body, str(exc)), str(exc))
    subscriber = payload["subscriber"]
    event = payload.get("event") or ""
    state = subscriber.get("state") or KIT_EVENT_STATES.get(event)
    # Kit sends no event id: the signed timestamp and body identify a delivery.
    event_id = str(payload.get("id") or hashlib.sha256(f"{ts}.".encode() + body).hexdigest())

    def handle(log: WebhookLog):
        user = accounts_selectors.people().filter(kit_subscriber_id=str(subscriber["id"])).first()
        if user is None and subscriber.get("email_address"):
            user = accounts_selectors.person_by_email(str(subscriber["email_address"]))
        if user is None:
            raise ProcessingError(f"No person matches Kit subscriber {subscriber['id']!r}.")
        if state not in KitState.values:
            raise ProcessingError(f"Unknown Kit state {state!r}.", user=user)
        accounts_services.person_set_kit_subscription(user=user, state=state, subscriber_id=str(subscriber["id"]))
        if state in (KitState.CANCELLED, KitState.COMPLAINED):
            accounts_services.person_withdraw_marketing_consent(
                user=user, source="kit", context=RequestContext.system(source="webhook")
            )
            return user, f"Kit state {state}; marketing consent withdrawn."
        return user, f"Kit state {state}."

    return _record(
        source=Source.KIT, webhook_type=event or f"state.{state}", event_id=event_id, payload=payload, handler=handle
    )


# ------------------------------------------------------------------------ retention


def webhook_log_prune(*, older_than_days: int, chunk: int = 5_000) -> int:
    """Delete webhook deliveries older than ``older_than_days`` days (seed 004 §9.3: six months), in chunks.

    The log stays one plain table (not partitioned): its deduplication — one row per
    ``(source, event_id)``, a unique index — must hold across all time, and a partitioned table's
    unique indexes must include the partition key; it is also small (one row per provider callback),
    so a chunked delete along ``webhook_log_created`` is cheap. Returns the number deleted.
    """
    if older_than_days < 1:
        raise ValueError("keep at least one day of webhook deliveries")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                WebhookLog.objects.filter(created_at__lt=cutoff)
                .order_by("created_at")
                .values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                return total
            total += WebhookLog.objects.filter(pk__in=ids).delete()[0]


def webhook_log_retention() -> int | None:
    """The daily retention job: ``WEBHOOK_LOG_RETENTION_DAYS`` (0 keeps every delivery)."""
    days = settings.WEBHOOK_LOG_RETENTION_DAYS
    return webhook_log_prune(older_than_days=days) if days else None
