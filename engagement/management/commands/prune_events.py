"""``manage.py prune_events --older-than DAYS``: event log retention (whole months, see ``events_prune``)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engagement.event_log import events_prune
from focusedroom.errors import ApplicationError


class Command(BaseCommand):
    help = "Drop the months of the event log whose events are all older than the given number of days."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=None, metavar="DAYS", help="Default: EVENTS_RETENTION_DAYS."
        )

    def handle(self, *args, older_than: int | None, **options):
        older_than = settings.EVENTS_RETENTION_DAYS if older_than is None else older_than
        if not older_than:
            self.stdout.write("EVENTS_RETENTION_DAYS is 0: every event is kept")
            return
        try:
            deleted = events_prune(older_than_days=older_than)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"deleted {deleted} events older than {older_than} days (whole months dropped)")
