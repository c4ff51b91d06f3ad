"""Record a budget's spend from ops tooling or an ad-platform export (seed 003 example 7)."""

import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import selectors as accounts_selectors
from focusedroom.errors import ApplicationError
from focusedroom.forms import error_message
from profiles import services
from profiles.models import Budget


class Command(BaseCommand):
    help = "Set (--set) or add to (--add) the amount spent of a budget; crossed alert thresholds fire once."

    def add_arguments(self, parser):
        parser.add_argument("budget_id", help="The budget's id (UUID).")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--set", dest="amount_spent", help="New total amount spent, e.g. 1250.00.")
        group.add_argument("--add", dest="add", help="Amount to add to the spend, e.g. 99.90.")
        parser.add_argument("--actor", required=True, help="Email of the staff member doing it (audit trail).")

    def handle(self, *args, budget_id, amount_spent, add, actor, **options):
        person = (
            accounts_selectors.people().filter(email=accounts_selectors.normalize_email(actor), is_staff=True).first()
        )
        if person is None:
            raise CommandError(f"No staff member with the email {actor}.")
        budget = Budget.objects.filter(pk=budget_id).first() if _is_uuid(budget_id) else None
        if budget is None:
            raise CommandError(f"No live budget with the id {budget_id}.")
        try:
            result = services.budget_record_spend(budget=budget, amount_spent=amount_spent, add=add, actor=person)
        except (ValidationError, ApplicationError) as exc:
            raise CommandError(error_message(exc)) from exc
        b = result.budget
        self.stdout.write(
            f"{b.name}: spent {b.amount_spent} of {b.amount} ({b.percentage_spent}%), {b.amount_remaining} left"
        )
        for threshold in result.alerts_fired:
            self.stdout.write(self.style.WARNING(f"Alert fired: {threshold}% of the budget spent."))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
