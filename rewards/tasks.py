"""Periodic work of rewards (procrastinate; thin: each calls a service; schedules in UTC).

* ``rewards.audit`` — nightly: the ledger audit, stored (a difference is logged as an error);
* ``rewards.expire_gems`` — every hour: expiry entries for due lots, the 14-day warnings;
* ``rewards.release_pending_gems`` — every hour: pending credits whose holding period is over;
* ``rewards.expire_referrals`` — every hour: pending referrals past their window.

Each is idempotent (running twice writes nothing new) and runs alone (a queueing lock keeps
one waiting job of each). The same services are behind ``manage.py rewards_audit``,
``expire_gems``, ``release_pending_gems`` and ``expire_referrals``.
"""

from __future__ import annotations

import logging

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from focusedroom.context import RequestContext
from rewards import services

logger = logging.getLogger(__name__)

RETRY = RetryStrategy(max_attempts=3, wait=60)


@app.periodic(cron="0 3 * * *", periodic_id="nightly")
@app.task(name="rewards.audit", queue="periodic", queueing_lock="rewards.audit", lock="rewards.audit")
def audit(*, timestamp: int = 0) -> int:
    """The nightly ledger audit; the run is stored (AuditRun) and a difference is logged as an error."""
    run = services.rewards_audit(store=True)
    if not run.is_clean:
        logger.error("rewards audit: %s wallet(s) differ from the ledger", run.differences)
    return run.differences


@app.periodic(cron="7 * * * *", periodic_id="rewards.expire_gems")
@app.task(name="rewards.expire_gems", queue="rewards", retry=RETRY, queueing_lock="rewards.expire_gems")
def expire_gems(timestamp: int) -> dict[str, int]:
    return services.lots_expire(context=RequestContext.system(source="task"))


@app.periodic(cron="17 * * * *", periodic_id="rewards.release_pending_gems")
@app.task(
    name="rewards.release_pending_gems", queue="rewards", retry=RETRY, queueing_lock="rewards.release_pending_gems"
)
def release_pending_gems(timestamp: int) -> int:
    return services.pending_credits_release(context=RequestContext.system(source="task"))


@app.periodic(cron="10 * * * *", periodic_id="hourly")
@app.task(
    name="rewards.expire_referrals",
    queue="periodic",
    queueing_lock="rewards.expire_referrals",
    lock="rewards.expire_referrals",
)
def expire_referrals(*, timestamp: int = 0) -> int:
    return services.referrals_expire()
