"""Background work of engagement (procrastinate; see ``focusedroom.tasks``). Thin: call a service."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from engagement import services


@app.task(
    name="engagement.big_five_latest_refresh",
    queue="audiences",
    retry=RetryStrategy(max_attempts=3, wait=30),
    queueing_lock="big_five_latest_refresh",
)
def big_five_latest_refresh() -> None:
    """Refresh the latest-results view now (deferred after a consent change or an erasure; one waits at most)."""
    services.big_five_latest_refresh()
