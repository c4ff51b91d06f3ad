"""Writes to the event log and the outbox; other apps call these inside their transactions."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from engagement.models import Event, OutboxMessage
from focusedroom.request_context import client_ip, device_type, user_agent


def event_record(
    *,
    event_type: str,
    user=None,
    anonymous_id: str = "",
    brand=None,
    metadata: dict[str, Any] | None = None,
    product=None,
    points_awarded: int = 0,
    page_url: str = "",
    experiment_context: str = "",
    variant_context: str = "",
    session_identifier: str = "",
    request: HttpRequest | None = None,
) -> Event:
    """Append one event; IP, user agent and device type come from ``request`` when given."""
    ua = user_agent(request)
    return Event.objects.create(
        event_type=event_type,
        user=user,
        anonymous_id=anonymous_id,
        brand=brand,
        metadata=metadata or {},
        product=product,
        points_awarded=points_awarded,
        page_url=page_url,
        experiment_context=experiment_context,
        variant_context=variant_context,
        session_identifier=session_identifier,
        ip_address=client_ip(request),
        user_agent=ua,
        device_type=device_type(ua) if ua else "",
    )


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

    Consent rule: a marketing message for a person without marketing opt-in is not
    queued at all (returns None); transactional messages always are.
    """
    if marketing and user is not None and not user.marketing_opt_in:
        return None
    return OutboxMessage.objects.create(
        user=user,
        brand=brand,
        destination=destination,
        action=action,
        event_name=event_name,
        event_data=data or {},
        is_marketing=marketing,
        priority=priority,
    )
