"""``manage.py prune_events --older-than DAYS``: event log retention."""

from django.core.management.base import BaseCommand, CommandError

from engagement.event_log import events_prune
from focusedroom.errors import ApplicationError


class Command(BaseCommand):
    help = "Delete events older than the given number of days."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args, older_than: int, **options):
        try:
            deleted = events_prune(older_than_days=older_than)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"deleted {deleted} events older than {older_than} days")
