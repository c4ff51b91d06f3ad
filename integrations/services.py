"""Writes of the integrations: outbox producers, operator actions, GDPR.

Producers run inside the caller's transaction (signal receivers run inside the
sender's), so an outbox row commits or rolls back with the change it announces.

Consent rule (``outbox_enqueue`` enforces it):

* transactional — always queued: identify (who the person is and whether they opted
  in, so Customer.io can keep marketing away from them), email verified, Big Five
  completed (the report email), budget alert (to the staff member concerned), the
  warning that gems expire in 14 days (a notice about the member's own balance), and
  the GDPR deletions;
* marketing — queued only for people with ``marketing_opt_in``: gems earned, rank
  changed, achievement unlocked, referral converted, product scanned, and the Kit
  subscription (which also needs a verified email). A marketing row whose person
  withdraws consent before delivery is not sent (the worker fails it with the reason).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts.selectors import DEFAULT_BRAND_SLUG
from focusedroom import tasks
from integrations.audiences import (  # noqa: F401  (re-exported: the audience services)
    audience_person_leave_all,
    audience_results_refresh_soon,
    audience_snapshot_record,
    audience_sync,
    audience_sync_check,
    audience_sync_configure,
    audiences_refresh,
)
from integrations.consent import (  # noqa: F401  (re-exported: the consent rule, one place)
    KIT_CONSENT,
    MARKETING_CONSENT,
    kit_consent_q,
    marketing_consent_q,
    may_join_kit,
    may_receive_marketing,
)
from integrations.models import OutboxMessage

if TYPE_CHECKING:
    from accounts.models import User

Action = OutboxMessage.Action
Destination = OutboxMessage.Destination
Status = OutboxMessage.Status

PRIORITY_DELETE = 1
PRIORITY_IDENTIFY = 5
PRIORITY_EVENT = 10
PRIORITY_KIT = 20


@transaction.atomic
def outbox_enqueue(
    *,
    user,
    event_name: str,
    data: dict[str, Any] | None = None,
    destination: str = OutboxMessage.Destination.CUSTOMERIO,
    action: str = OutboxMessage.Action.EVENT,
    brand=None,
    priority: int = 10,
    marketing: bool = False,
) -> OutboxMessage | None:
    """Queue a message for an integration, in the caller's transaction.

    Consent rule (``may_receive_marketing``): a marketing message for a person without
    consent is not queued at all (returns None); transactional messages always are.
    """
    if marketing and not may_receive_marketing(user):
        return None
    message = OutboxMessage.objects.create(
        user=user,
        brand=brand,
        destination=destination,
        action=action,
        event_name=event_name,
        event_data=data or {},
        is_marketing=marketing,
        priority=priority,
    )
    outbox_wake()
    return message


DELIVERY_TASK = "integrations.deliver_outbox"


def outbox_wake() -> None:
    """Wake a delivery job once the caller's transaction commits (never for a change that rolls back).

    One waiting job at most (a queueing lock) serves every row written before it starts. The job is
    queued just after the commit, not inside the transaction: a transaction holding the queueing
    lock's row would make every other transaction that writes the outbox wait for its commit.
    A wake-up lost between the commit and the queueing (the process died) is made up by the
    every-minute ``integrations.sweep_outbox``; the row, not the job, records what is owed.
    """
    connection = transaction.get_connection()
    if any(getattr(fn, "outbox_wake", False) for _, fn, _ in connection.run_on_commit):
        return  # this transaction already asked

    def wake() -> None:
        tasks.defer_once(DELIVERY_TASK, queueing_lock=DELIVERY_TASK)

    wake.outbox_wake = True  # type: ignore[attr-defined]
    transaction.on_commit(wake, robust=True)


# Event name -> marketing? (which events the consent rule applies to)
EVENTS: dict[str, bool] = {
    "email_verified": False,
    "big_five_completed": False,
    "budget_alert": False,
    "gems_expiring": False,  # a notice about the member's own balance, like a statement
    "gems_earned": True,
    "rank_changed": True,
    "achievement_unlocked": True,
    "referral_converted": True,
    "product_scanned": True,
}


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Decimals, dates and UUIDs as the strings Customer.io will receive."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _pending(**filters) -> bool:
    return OutboxMessage.objects.filter(status=Status.PENDING, **filters).exists()


@transaction.atomic
def outbox_identify(*, user: User, brand=None) -> OutboxMessage | None:
    """Queue an identify (transactional). The worker sends the person's attributes as they
    are at delivery, so one pending identify per person and brand is enough."""
    if user.is_staff and not user.email:
        return None
    if _pending(user=user, brand=brand, destination=Destination.CUSTOMERIO, action=Action.IDENTIFY):
        return None
    return outbox_enqueue(
        user=user,
        event_name="identify",
        action=Action.IDENTIFY,
        brand=brand,
        priority=PRIORITY_IDENTIFY,
        marketing=False,
    )


def outbox_event(*, user: User, name: str, data: dict[str, Any], brand=None) -> OutboxMessage | None:
    """Queue a Customer.io event; marketing or transactional according to ``EVENTS``.

    For a brand other than the default one, the person is identified in that brand's
    workspace first (once). A marketing event for a person without consent writes nothing and
    opens no transaction (every credit of gems asks).
    """
    marketing = EVENTS[name]
    if marketing and not may_receive_marketing(user):
        return None
    with transaction.atomic():
        if brand is not None and brand.slug != DEFAULT_BRAND_SLUG:
            ever = OutboxMessage.objects.filter(user=user, brand=brand, action=Action.IDENTIFY).exists()
            if not ever:
                outbox_identify(user=user, brand=brand)
        data = _json_safe(data)
        return outbox_enqueue(
            user=user, event_name=name, data=data, brand=brand, priority=PRIORITY_EVENT, marketing=marketing
        )


@transaction.atomic
def outbox_kit_sync(*, user: User) -> OutboxMessage | None:
    """Upsert an opted-in, verified person as a Kit subscriber (marketing)."""
    if not may_join_kit(user):
        return None
    if _pending(user=user, destination=Destination.KIT, action=Action.SUBSCRIBER_UPSERT):
        return None
    return outbox_enqueue(
        user=user,
        event_name="subscriber_upsert",
        destination=Destination.KIT,
        action=Action.SUBSCRIBER_UPSERT,
        priority=PRIORITY_KIT,
        marketing=True,
    )


@transaction.atomic
def outbox_kit_unsubscribe(
    *, user: User, subscriber_id: str | None = None, event_name: str = "subscriber_delete"
) -> OutboxMessage | None:
    """Unsubscribe the person from Kit (consent withdrawn, erasure). Transactional."""
    subscriber_id = subscriber_id or user.kit_subscriber_id
    if not subscriber_id:
        return None
    return outbox_enqueue(
        user=user,
        event_name=event_name,
        data={"subscriber_id": str(subscriber_id)},
        destination=Destination.KIT,
        action=Action.SUBSCRIBER_DELETE,
        priority=PRIORITY_DELETE,
        marketing=False,
    )


@transaction.atomic
def outbox_retry(*, message_ids: list[int]) -> int:
    """Operator action: failed messages go back to ``pending`` for a fresh set of attempts."""
    count = OutboxMessage.objects.filter(pk__in=message_ids, status=Status.FAILED).update(
        status=Status.PENDING,
        attempt_count=0,
        next_attempt_at=timezone.now(),
        locked_until=None,
        last_error="",
    )
    if count:
        outbox_wake()
    return count


@transaction.atomic
def outbox_erase_person(*, user: User) -> None:
    """GDPR erasure: drop what was never sent, blank what was, make sure every provider that
    heard of the person gets a deletion (Customer.io per brand workspace, Kit).

    Deletions already queued are not queued twice. Runs before ``accounts`` pseudonymises
    the person, so the identifiers the providers need are still there.
    """
    deletions = [Action.DELETE, Action.SUBSCRIBER_DELETE]
    default_id = accounts_selectors.brand_default_id()

    def workspace(brand_id: int | None) -> int | None:  # no brand = the default brand's workspace
        return default_id if brand_id is None else brand_id

    rows = OutboxMessage.objects.filter(user=user)
    brand_ids = {
        workspace(b) for b in rows.filter(destination=Destination.CUSTOMERIO).values_list("brand_id", flat=True)
    }
    rows.filter(status__in=[Status.PENDING, Status.FAILED]).exclude(action__in=deletions).delete()
    rows.exclude(action__in=deletions).update(event_data={})
    queued = {
        workspace(b)
        for b in rows.filter(action=Action.DELETE, status=Status.PENDING).values_list("brand_id", flat=True)
    }
    for brand_id in sorted((brand_ids | {default_id}) - queued, key=lambda b: (b is not None, b or 0)):
        OutboxMessage.objects.create(
            user=user,
            brand_id=brand_id,
            destination=Destination.CUSTOMERIO,
            action=Action.DELETE,
            event_name="person_erased",
            event_data={"customer_id": str(user.pk)},
            priority=PRIORITY_DELETE,
        )
        outbox_wake()
    if not rows.filter(action=Action.SUBSCRIBER_DELETE, status=Status.PENDING).exists():
        outbox_kit_unsubscribe(user=user, event_name="person_erased")
