"""Background work of the integrations: outbox delivery and AI profiles (thin: each calls a service).

``deliver_outbox`` is woken by every outbox write (``services.outbox_wake``, in the writer's
transaction); ``sweep_outbox`` runs every minute for what becomes due later (retries, expired
leases). Both may run on any number of workers at once: rows are claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

from procrastinate.contrib.django import app

from integrations.ai_profiles import ai_profiles_compute
from integrations.outbox import outbox_deliver_due


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
