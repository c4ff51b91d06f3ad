from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User

DEMO_EMAIL = "admin@focusedroom.local"
DEMO_PASSWORD = "focusedroom-admin"  # noqa: S105 — development-only demo login, refused in production


class Command(BaseCommand):
    help = "Create the demo superuser if no superuser exists, and print the login (not in production)."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("Refusing to create a demo admin in production; use createsuperuser.")
        if User.objects.filter(is_superuser=True).exists():
            existing = User.objects.filter(email=DEMO_EMAIL, is_superuser=True).exists()
            hint = f"{DEMO_EMAIL} / {DEMO_PASSWORD}" if existing else "an existing superuser"
            self.stdout.write(f"Console login: {hint} at {settings.SITE_URL}/admin/")
            return
        User.objects.create_superuser(DEMO_EMAIL, DEMO_PASSWORD, name="Demo Admin")
        self.stdout.write(self.style.SUCCESS(f"Created demo admin. Console login: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
