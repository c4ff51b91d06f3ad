from django.core.management.base import BaseCommand, CommandError

from focusedroom.context import RequestContext
from rewards import services
from rewards.models import AchievementConfig


class Command(BaseCommand):
    help = (
        "Rebuild achievement progress from the recorded events (after a criterion changed); awards newly met ones once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key", help="Only this achievement key (all brands).")

    def handle(self, *args, key: str | None = None, **options):
        configs = [None]
        if key:
            configs = list(AchievementConfig.objects.filter(achievement_key=key))
            if not configs:
                raise CommandError(f"No achievement with key {key!r}.")
        context = RequestContext.system(source="command")
        for config in configs:
            result = services.achievements_recompute(config=config, context=context)
            label = config.achievement_key if config else "all achievements"
            self.stdout.write(f"{label}: {result['people']} people evaluated, {result['unlocked']} newly unlocked.")
        self.stdout.write(self.style.SUCCESS("Done."))
