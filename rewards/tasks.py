"""Periodic work of the rewards (thin: each calls a service; schedules in UTC)."""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

from rewards import services

logger = logging.getLogger(__name__)


@app.periodic(cron="0 3 * * *", periodic_id="nightly")
@app.task(name="rewards.audit", queue="periodic", queueing_lock="rewards.audit", lock="rewards.audit")
def audit(*, timestamp: int = 0) -> int:
    """The nightly ledger audit; the run is stored (AuditRun) and a difference is logged as an error."""
    run = services.rewards_audit(store=True)
    if not run.is_clean:
        logger.error("rewards audit: %s wallet(s) differ from the ledger", run.differences)
    return run.differences


@app.periodic(cron="10 * * * *", periodic_id="hourly")
@app.task(
    name="rewards.expire_referrals",
    queue="periodic",
    queueing_lock="rewards.expire_referrals",
    lock="rewards.expire_referrals",
)
def expire_referrals(*, timestamp: int = 0) -> int:
    return services.referrals_expire()
