from django.core.management.base import BaseCommand

from focusedroom.context import RequestContext
from rewards import services


class Command(BaseCommand):
    help = "Recompute every member's rank in every brand from their lifetime earned (after ranks changed)."

    def handle(self, *args, **options):
        changed = services.ranks_recompute_all(context=RequestContext.system(source="command"))
        self.stdout.write(self.style.SUCCESS(f"{changed} rank change(s)."))
