from django.core.management.base import BaseCommand

from focusedroom.context import RequestContext
from rewards import services


class Command(BaseCommand):
    help = "Release pending gems whose holding period is over, as normal credits (run every hour; idempotent)."

    def handle(self, *args, **options):
        count = services.pending_credits_release(context=RequestContext.system(source="command"))
        self.stdout.write(self.style.SUCCESS(f"{count} pending credit(s) released."))
