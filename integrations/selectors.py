"""Reads for the operator console: outbox health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import BooleanField, Case, Count, Exists, Min, Q, QuerySet, Value, When
from django.utils import timezone

from accounts import selectors as accounts_selectors
from integrations.audiences import (  # noqa: F401  (re-exported: the audience reads)
    audience_composition,
    audience_people,
    audience_report,
    audience_sync_state,
)
from integrations.models import OutboxMessage

Status = OutboxMessage.Status
Destination = OutboxMessage.Destination


@dataclass
class OutboxSummary:
    counts: dict[str, int]
    oldest_pending_age: timedelta | None
    waiting: list[str] = field(default_factory=list)
    recent_failures: list[OutboxMessage] = field(default_factory=list)


def with_delivery_readiness(queryset: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """Annotate ``credentials_ready``: can the worker send this row now (same rule as its claim)?

    Customer.io rows need their brand's (or, without a brand, the default brand's) site id
    and API key; Kit rows need ``KIT_API_KEY``. Empty credentials are stored as ``''``.
    """
    default_ready = Exists(
        accounts_selectors.brands(active_only=False)
        .filter(slug=accounts_selectors.DEFAULT_BRAND_SLUG)
        .exclude(customer_io_site_id="")
        .exclude(customer_io_api_key="")
    )
    brand_ready = Q(brand__isnull=False) & ~Q(brand__customer_io_site_id="") & ~Q(brand__customer_io_api_key="")
    return queryset.annotate(
        credentials_ready=Case(
            When(destination=Destination.KIT, then=Value(bool(settings.KIT_API_KEY))),
            When(brand__isnull=True, then=default_ready),
            When(brand_ready, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def outbox_summary() -> OutboxSummary:
    """Counts by status, age of the oldest pending row, why rows wait, the latest failures."""
    counts = dict.fromkeys(Status.values, 0)
    counts.update(dict(OutboxMessage.objects.order_by().values_list("status").annotate(n=Count("id"))))
    oldest = OutboxMessage.objects.filter(status=Status.PENDING).aggregate(oldest=Min("created_at"))["oldest"]
    waiting: list[str] = []
    blocked = (
        with_delivery_readiness(OutboxMessage.objects.filter(status=Status.PENDING))
        .filter(credentials_ready=False)
        .order_by()
        .values_list("destination", "brand__name")
        .annotate(n=Count("id"))
    )
    for destination, brand_name, n in blocked:
        if destination == Destination.KIT:
            waiting.append(f"{n} Kit message(s) wait: KIT_API_KEY is not set.")
        else:
            name = brand_name or "the default brand"
            waiting.append(f"{n} Customer.io message(s) wait: {name} has no Customer.io site id and API key.")
    failures = list(
        OutboxMessage.objects.filter(status=Status.FAILED).select_related("user").order_by("-last_attempt_at")[:10]
    )
    return OutboxSummary(
        counts=counts,
        oldest_pending_age=(timezone.now() - oldest) if oldest else None,
        waiting=waiting,
        recent_failures=failures,
    )


def outbox_waiting_reason(message: OutboxMessage) -> str:
    """Why a pending row has not been sent yet (needs ``with_delivery_readiness``)."""
    if message.status != Status.PENDING:
        return ""
    if not getattr(message, "credentials_ready", True):
        if message.destination == Destination.KIT:
            return "KIT_API_KEY is not set"
        return "no Customer.io credentials for its brand"
    if message.next_attempt_at > timezone.now():
        return f"retry after {message.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
    return "due"
