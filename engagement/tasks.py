"""Periodic work of the engagement app (thin: each calls a service; schedules in UTC)."""

from __future__ import annotations

from django.conf import settings
from procrastinate.contrib.django import app

from engagement.event_log import events_prune


@app.periodic(cron="20 4 * * *", periodic_id="nightly")
@app.task(
    name="engagement.prune_events",
    queue="periodic",
    queueing_lock="engagement.prune_events",
    lock="engagement.prune_events",
)
def prune_events(*, timestamp: int = 0) -> int:
    """Event retention: drop what is older than ``EVENTS_RETENTION_DAYS``."""
    return events_prune(older_than_days=settings.EVENTS_RETENTION_DAYS)
