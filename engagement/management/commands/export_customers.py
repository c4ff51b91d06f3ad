"""``manage.py export_customers [--output FILE]``: customers as CSV (seed 000 columns + tests)."""

from django.core.management.base import BaseCommand, CommandError

from engagement.customer_csv import customers_export


class Command(BaseCommand):
    help = "Export customers (not staff, not deleted) as CSV to standard output or --output FILE."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="Write to this file instead of standard output.")

    def handle(self, *args, output: str | None, **options):
        if output:
            try:
                with open(output, "w", encoding="utf-8", newline="") as stream:
                    count = customers_export(stream=stream)
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}") from exc
            self.stderr.write(f"{count} customers written to {output}.")
        else:
            customers_export(stream=self.stdout._out)
