"""``manage.py audiences_refresh``: refresh the latest Big Five results, record today's audience sizes, sync.

What the periodic job does (``integrations.tasks``), for cron or by hand: refresh the
``big_five_latest`` materialised view, write each active profile's audience size for today
(the "change since last week" compares with these), and sync the audiences that have a
destination (Customer.io attribute, Kit tag) — only who entered and who left.
``--no-sync`` only measures; ``--profile ID`` syncs one profile now.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations import services
from profiles import selectors as profiles_selectors


class Command(BaseCommand):
    help = "Refresh the latest Big Five results, record audience sizes and sync audiences to Customer.io and Kit."

    def add_arguments(self, parser):
        parser.add_argument("--no-sync", action="store_true", help="Measure and record sizes only.")
        parser.add_argument("--profile", default="", help="Sync this profile's audience only (its id).")

    def handle(self, *args, no_sync: bool, profile: str, **options):
        if profile:
            record = profiles_selectors.customer_profile_get(profile, include_deleted=True)
            if record is None:
                raise CommandError(f"No target customer profile with id {profile!r}.")
            result = services.audience_sync(profile=record)
            self.stdout.write(f"{record.name}: {result.entered} entered, {result.left} left")
            return
        counts = services.audiences_refresh(sync=not no_sync, log=self.stdout.write)
        self.stdout.write(
            f"{counts['profiles']} profiles measured, {counts['synced']} synced, {counts['failed']} failed"
        )
