"""``manage.py import_customers FILE.csv [--dry-run]``: idempotent upsert of customers by email."""

import sys

from django.core.management.base import BaseCommand, CommandError

from engagement.customer_csv import customers_import_file


class Command(BaseCommand):
    help = (
        "Import customers from a CSV (seed 000 columns: email_id, name, age, profession, career_stage, purpose, "
        "channel_id, opt_in). Upsert by email; reports created/updated/unchanged/rejected rows with reasons."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8), or - for standard input.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and report, then roll back.")

    def handle(self, *args, file: str, dry_run: bool, **options):
        try:
            if file == "-":
                report = customers_import_file(stream=sys.stdin, dry_run=dry_run)
            else:
                with open(file, encoding="utf-8-sig", newline="") as stream:
                    report = customers_import_file(stream=stream, dry_run=dry_run)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        for line, email, reason in report.rejected:
            self.stdout.write(f"line {line}: rejected {email or '(no email)'}: {reason}")
        prefix = "Dry run (nothing saved): " if dry_run else ""
        style = self.style.SUCCESS if report.ok else self.style.WARNING
        self.stdout.write(style(prefix + report.summary()))
        if not report.ok:
            raise CommandError(f"{len(report.rejected)} row(s) rejected.", returncode=2)
