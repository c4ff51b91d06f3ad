from django.core.management.base import BaseCommand

from rewards import services


class Command(BaseCommand):
    help = "Mark pending referrals past their window as expired."

    def handle(self, *args, **options):
        count = services.referrals_expire()
        self.stdout.write(self.style.SUCCESS(f"{count} referral(s) expired."))
