"""Background announcements with exactly-once effects: ``run_once(key=…, steps=…)``.

A task that announces a domain event (``engagement.result_recorded`` sends ``person_identified``
and ``quiz_completed`` in the worker) hands its work here as *steps*: each receiver of a signal
(``signal_steps``) and any work of its own. Every step leaves a receipt (``DeliveryReceipt``,
``<key>/<step name>``) in the transaction that holds its effects, so a retried job re-runs only
the steps that did not take effect.

* The usual case costs one transaction: all steps' receipts are claimed with one ``INSERT … ON
  CONFLICT DO NOTHING RETURNING`` and the steps run, in order, with no savepoint between them —
  nor inside them: the services' own nested ``atomic`` blocks open none while the steps run
  together (``_without_savepoints``). A service that catches a database error and goes on (it
  needed a savepoint) breaks the transaction; that is caught like any failure, below.
* If a step fails, that transaction rolls back and every step runs again **in its own
  transaction** (in the worker's autocommit, a real transaction, not a savepoint): one failing
  receiver does not hold back the others. The failures are then raised as ``DeliveryIncomplete``,
  so the task engine retries the job; the retry skips the steps whose receipts exist. Nothing is
  swallowed: a receiver that keeps failing keeps its job failing, visible in the queue.

Receivers therefore raise on failure (no ``try/except`` around their work) and must not depend on
running in one transaction with the others.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    name: str  # stable across releases: it is part of the receipt's key
    run: Callable[[], object]


class DeliveryIncomplete(Exception):
    """Some steps failed; their job is retried and runs only those."""

    def __init__(self, key: str, failed: list[str]) -> None:
        super().__init__(f"{key}: {', '.join(failed)} failed (retried)")
        self.key, self.failed = key, failed


def receiver_name(receiver: Callable) -> str:
    return f"{receiver.__module__}.{receiver.__qualname__}"


def signal_steps(signal: Signal, *, label: str, sender, **kwargs) -> list[Step]:
    """One step per live receiver of ``signal`` for ``sender`` (named ``<label>:<module.function>``),
    each called as ``Signal.send`` would call it."""
    receivers, _async_receivers = signal._live_receivers(sender)
    return [
        Step(
            f"{label}:{receiver_name(receiver)}",
            lambda receiver=receiver: receiver(signal=signal, sender=sender, **kwargs),
        )
        for receiver in receivers
    ]


def _claim(keys: Sequence[str]) -> set[str]:
    """Write the receipts that do not exist yet; the keys written (one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO focusedroom_delivery_receipt (key, created_at) SELECT k, now() FROM unnest(%s::text[]) AS k "
            "ON CONFLICT (key) DO NOTHING RETURNING key",
            [list(keys)],
        )
        return {row[0] for row in cursor.fetchall()}


class _Broken(Exception):
    """A step swallowed an error inside the shared transaction: its effects are unsure."""


@contextlib.contextmanager
def _without_savepoints() -> Iterator[None]:
    """Nested ``transaction.atomic`` blocks open no savepoint on this connection meanwhile (an error
    in one then spoils the whole transaction, which ``run_once`` rolls back and runs step by step)."""
    features = connection.features
    saved = features.__dict__.get("uses_savepoints")
    features.uses_savepoints = False
    try:
        yield
    finally:
        if saved is None:
            del features.uses_savepoints
        else:
            features.uses_savepoints = saved


def run_once(*, key: str, steps: Sequence[Step]) -> None:
    """Run each step at most once per ``key`` (see the module docstring). Call outside a transaction."""
    keyed = [(f"{key}/{step.name}", step) for step in steps]
    if len({k for k, _ in keyed}) != len(keyed):
        raise ValueError(f"{key}: two steps share a name")
    try:
        with transaction.atomic():
            todo = _claim([k for k, _ in keyed])
            with _without_savepoints():
                for receipt, step in keyed:
                    if receipt in todo:
                        step.run()
            if connection.needs_rollback:
                raise _Broken(f"{key}: a step caught a database error")
        return
    except Exception:
        logger.warning("%s: a step failed; running each step on its own", key, exc_info=True)
    failed = []
    for receipt, step in keyed:
        try:
            with transaction.atomic():
                if _claim([receipt]):
                    step.run()
        except Exception:
            logger.exception("%s: step %s failed", key, step.name)
            failed.append(step.name)
    if failed:
        raise DeliveryIncomplete(key, failed)


def receipts_prune(*, older_than_days: int) -> int:
    """Delete receipts older than any retry of their job can be (a daily task)."""
    from focusedroom.models import DeliveryReceipt

    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = DeliveryReceipt.objects.filter(created_at__lt=cutoff).delete()
    return deleted
