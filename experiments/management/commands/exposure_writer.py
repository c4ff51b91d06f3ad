"""``manage.py exposure_writer``: write the buffered exposures (``experiments.exposure_buffer``).

Reads the Redis Stream in the ``writers`` consumer group, writes each batch in one transaction
(one participation upsert, ``COPY`` for impressions), then acknowledges it. On start it finishes
its own pending entries; every minute it claims entries another consumer abandoned. After a batch
smaller than ``--batch`` it waits ``--linger-ms`` (200) so the next one gathers more: under a steady
trickle the writer commits a few times a second instead of once per exposure, and an exposure
reaches PostgreSQL within ``--linger-ms`` + ``--block-ms`` of being buffered. ``--once`` writes what
is there and stops (tests, cron).
"""

from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, transaction

from experiments import exposure_buffer, services

logger = logging.getLogger(__name__)


def write(entries: list[tuple[str, dict]]) -> int:
    """Write a batch in one transaction (entries written before are skipped), then acknowledge it."""
    if not entries:
        return 0
    with transaction.atomic():
        done = services.exposures_write_buffered(
            events=[{**event, "impression_id": exposure_buffer.impression_id(eid)} for eid, event in entries]
        )
    exposure_buffer.ack([eid for eid, _ in entries])
    return done["exposures"] + done["stitches"]


class Command(BaseCommand):
    help = "Write buffered exposures from the Redis Stream to PostgreSQL (runs until stopped)."

    def add_arguments(self, parser):
        parser.add_argument("--consumer", default="", help="Consumer name (default: writer-<hostname>).")
        parser.add_argument("--batch", type=int, default=500, help="Entries per transaction.")
        parser.add_argument("--block-ms", type=int, default=1000, help="How long a read waits for entries.")
        parser.add_argument(
            "--linger-ms", type=int, default=200, help="Wait after a partial batch, so the next one gathers more."
        )
        parser.add_argument("--once", action="store_true", help="Write what is buffered now, then stop.")
        parser.add_argument(
            "--if-enabled", action="store_true", help="Exit quietly when the buffer is off (make run starts it always)."
        )

    def handle(
        self,
        *args,
        consumer: str,
        batch: int,
        block_ms: int,
        linger_ms: int,
        once: bool,
        if_enabled: bool,
        **options,
    ):
        if not exposure_buffer.enabled():
            if if_enabled:
                return
            raise CommandError("The exposure buffer is off: set REDIS_URL (and EXPOSURE_BUFFER=redis).")
        consumer = consumer or exposure_buffer.default_consumer()
        exposure_buffer.ensure_group()
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        total = 0
        # A restart: what this consumer read and never acknowledged, then what others abandoned.
        while pending := exposure_buffer.read_own_pending(consumer, batch):
            total += write(pending)
        last_claim = 0.0
        while not stopping:
            if time.monotonic() - last_claim > exposure_buffer.CLAIM_IDLE_MS / 1000:
                last_claim = time.monotonic()
                while claimed := exposure_buffer.claim_abandoned(consumer, batch):
                    total += write(claimed)
            entries = exposure_buffer.read_new(consumer, batch, None if once else block_ms)
            if entries:
                close_old_connections()
                total += write(entries)
                if len(entries) < batch and not once and not stopping:
                    time.sleep(linger_ms / 1000)
            elif once:
                break
        self.stdout.write(f"exposure_writer: {total} entries written")
