"""``manage.py unsubscribe EMAIL [--reason TEXT]``: withdraw a person's marketing consent (a request by
letter or phone). The same service as the unsubscribe link: Customer.io and Kit hear of it too."""

from django.core.management.base import BaseCommand, CommandError

from accounts import selectors, services
from focusedroom.context import RequestContext


class Command(BaseCommand):
    help = "Withdraw a person's marketing consent everywhere (Customer.io and Kit are told through the outbox)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--reason", default="", help="Why (kept in the person's change log).")

    def handle(self, *args, email: str, reason: str, **options):
        person = selectors.person_by_email(email)
        if person is None:
            raise CommandError(f"No person with the email {email!r}.")
        changed = services.person_withdraw_marketing_consent(
            user=person, source="command", context=RequestContext.system(source="command"), reason=reason
        )
        self.stdout.write("Unsubscribed." if changed else "Already unsubscribed: nothing to do.")
