"""Background work of the integrations (procrastinate; see ``focusedroom.tasks``). Thin: parse, call a service."""

from __future__ import annotations

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from integrations import services
from profiles import selectors as profiles_selectors

logger = logging.getLogger(__name__)

RETRY = RetryStrategy(max_attempts=5, exponential_wait=10)


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
