"""Background work of ``engagement`` (thin: parse, call a service).

Event retention runs in the daily partition maintenance (``focusedroom.partitions_maintain``)."""

from __future__ import annotations

from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

# A receiver that fails is retried alone (focusedroom.delivery): 2 s, 4 s, 8 s … about 9 hours in all.
RETRY = RetryStrategy(max_attempts=15, exponential_wait=2)


@app.task(name="engagement.result_recorded", queue="engagement", retry=RETRY)
def result_recorded(
    *,
    result_id: int,
    identified: bool = False,
    created: bool = False,
    pending_for: int | None = None,
    context: str | None = None,
) -> None:
    """A Big Five result was stored: the other apps react, exactly once (``quiz_result_announce``)."""
    from engagement.services import quiz_result_announce

    quiz_result_announce(
        result_id=result_id,
        identified=identified,
        created=created,
        pending_for=pending_for,
        context=context,
    )


@app.task(
    name="engagement.big_five_latest_refresh",
    queue="audiences",
    retry=RetryStrategy(max_attempts=3, wait=30),
    queueing_lock="big_five_latest_refresh",
)
def big_five_latest_refresh() -> None:
    """Refresh the latest-results view now (deferred after a consent change or an erasure; one waits at most)."""
    from engagement.services import big_five_latest_refresh as refresh

    refresh()
