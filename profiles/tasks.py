"""Periodic work of the campaign planning (thin: each calls a service; schedules in UTC)."""

from __future__ import annotations

from procrastinate.contrib.django import app

from profiles import services


@app.periodic(cron="*/15 * * * *", periodic_id="quarter-hourly")
@app.task(
    name="profiles.check_budgets",
    queue="periodic",
    queueing_lock="profiles.check_budgets",
    lock="profiles.check_budgets",
)
def check_budgets(*, timestamp: int = 0) -> int:
    """Budget alerts that are due fire (once each); pacing is recomputed."""
    return services.budgets_check().alerts_fired
