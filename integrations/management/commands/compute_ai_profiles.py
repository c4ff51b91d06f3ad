"""``manage.py compute_ai_profiles``: recompute every active person's AI profile (one SQL statement)."""

from django.core.management.base import BaseCommand

from integrations.ai_profiles import ai_profiles_compute


class Command(BaseCommand):
    help = "Compute engagement, churn and purchase scores, affinities, segment and next best action."

    def handle(self, *args, **options):
        count = ai_profiles_compute()
        self.stdout.write(f"computed {count} AI profiles")
