"""Background work of the integrations: outbox delivery, AI profiles and audiences (thin: each calls a service).

``deliver_outbox`` is woken by every outbox write (``services.outbox_wake``, in the writer's
transaction); ``sweep_outbox`` runs every minute for what becomes due later (retries, expired
leases). Both may run on any number of workers at once: rows are claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from integrations import services
from integrations.ai_profiles import ai_profiles_compute
from integrations.outbox import outbox_deliver_due
from profiles import selectors as profiles_selectors

logger = logging.getLogger(__name__)

RETRY = RetryStrategy(max_attempts=5, exponential_wait=10)


@app.task(name="integrations.deliver_outbox", queue="outbox")
def deliver_outbox() -> int:
    return outbox_deliver_due().sent


@app.periodic(cron="* * * * *", periodic_id="every-minute")
@app.task(name="integrations.sweep_outbox", queue="outbox", queueing_lock="integrations.sweep_outbox")
def sweep_outbox(*, timestamp: int = 0) -> int:
    return outbox_deliver_due().sent


@app.periodic(cron="30 2 * * *", periodic_id="nightly")
@app.task(
    name="integrations.compute_ai_profiles",
    queue="periodic",
    queueing_lock="integrations.compute_ai_profiles",
    lock="integrations.compute_ai_profiles",
)
def compute_ai_profiles(*, timestamp: int = 0) -> int:
    return ai_profiles_compute()


@app.periodic(cron="17 * * * *", periodic_id="hourly")
@app.task(name="integrations.audiences_refresh", queue="audiences", retry=RETRY, queueing_lock="audiences_refresh")
def audiences_refresh(timestamp: int) -> None:
    """Every hour: refresh the latest Big Five results, record today's audience sizes (the day's last
    run wins), sync the audiences that have a destination — only who entered and who left."""
    counts = services.audiences_refresh(log=logger.info)
    logger.info("audiences: %s", counts)


@app.task(name="integrations.audience_sync", queue="audiences", retry=RETRY)
def audience_sync(*, profile_id: str) -> None:
    """Sync one profile's audience now (the console's "Sync now")."""
    profile = profiles_selectors.customer_profile_get(profile_id, include_deleted=True)
    if profile is not None:
        services.audience_sync(profile=profile)
