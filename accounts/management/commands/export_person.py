"""Print (or write to a file) everything FocusedRoom holds about a person, as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from accounts import gdpr_services
from focusedroom.errors import ApplicationError


class Command(BaseCommand):
    help = "Export all of a person's data across apps as JSON (GDPR access request)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, *args, email, output=None, **options):
        try:
            user = gdpr_services.person_by_email(email=email)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        text = json.dumps(gdpr_services.person_export(user=user), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(f"Wrote the data of person {user.pk} to {output}.")
        else:
            self.stdout.write(text)
