"""Erase (pseudonymise) a person everywhere, in one transaction (GDPR erasure request)."""

from django.core.management.base import BaseCommand, CommandError

from accounts import gdpr_services
from focusedroom.errors import ApplicationError


class Command(BaseCommand):
    help = "Pseudonymise a person in every app and queue their deletion at Customer.io and Kit. Irreversible."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, email, interactive=True, **options):
        try:
            user = gdpr_services.person_by_email(email=email)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if interactive:
            answer = input(f"Erase person {user.pk} <{user.email}> everywhere? This cannot be undone. Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Erasure cancelled.")
        user = gdpr_services.person_erase(user=user)
        self.stdout.write(self.style.SUCCESS(f"Person {user.pk} erased; now {user.email}."))
