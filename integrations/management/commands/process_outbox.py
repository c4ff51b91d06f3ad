"""``manage.py process_outbox``: deliver the outbox to Customer.io and Kit, by hand.

Task workers deliver the outbox (``integrations.tasks``); this ops command runs the same
claim-deliver-record loop from a shell.

Runs until stopped (SIGTERM/SIGINT finish the current batch), sleeping when nothing is
due; ``--once`` processes what is due now and exits (for cron). Run as many as you like
in parallel: rows are claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from integrations.outbox import minimum_lease_seconds, run_worker


class Command(BaseCommand):
    help = "Deliver pending outbox messages (Customer.io, Kit)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Process what is due now, then exit.")
        parser.add_argument("--batch-size", type=int, default=100, help="Messages claimed per batch (default 100).")
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=120.0,
            help="How long a claimed message is reserved before another worker may reclaim it (default 120).",
        )
        parser.add_argument("--sleep", type=float, default=5.0, help="Seconds to wait when nothing is due.")

    def handle(self, *args, once: bool, batch_size: int, lease_seconds: float, sleep: float, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if lease_seconds < minimum_lease_seconds():
            raise CommandError(
                f"--lease-seconds must be at least {minimum_lease_seconds():g} (twice the HTTP timeout plus one)."
            )
        stop = {"requested": False}

        def request_stop(signum, frame):
            stop["requested"] = True
            self.stderr.write("stopping after the current batch …")

        if not once:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        total = run_worker(
            batch_size=batch_size,
            lease_seconds=lease_seconds,
            sleep_seconds=sleep,
            once=once,
            should_stop=lambda: stop["requested"],
            log=self.stdout.write,
        )
        self.stdout.write(
            f"claimed {total.claimed}, sent {total.sent}, retried {total.retried}, failed {total.failed}, "
            f"released {total.released}"
        )
