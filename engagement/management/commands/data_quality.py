"""``manage.py data_quality``: seed 001's checks and seed 000's data-quality figures; non-zero exit when broken."""

import json

from django.core.management.base import BaseCommand, CommandError

from engagement.selectors import data_quality_report


class Command(BaseCommand):
    help = (
        "Totals, duplicate emails, customers with several tests, report_id gaps/duplicates, field coverage and "
        "channel coverage. Exits with status 1 when an invariant is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the report as JSON.")

    def handle(self, *args, as_json: bool = False, **options):
        report = data_quality_report()
        if as_json:
            self.stdout.write(_dumps(report))
        else:
            w = self.stdout.write
            w(f"Customers:                      {report['customers']}")
            w(f"Big Five results:               {report['big_five_results']} ({report['anonymous_results']} anonymous)")
            w(f"Customers with tests:           {report['customers_with_tests']}")
            w(f"Customers without tests:        {report['customers_without_tests']}")
            w(f"Customers with several tests:   {report['customers_with_several_tests']}")
            w(f"Duplicate emails:               {len(report['duplicate_emails'])}")
            w(f"Customers with report_id gaps:  {report['report_id_gaps']}")
            w(f"Customers with duplicate ids:   {report['report_id_duplicates']}")
            w("Share of customers with:")
            for name, share in report["share_percent"].items():
                w(f"  {name:<18} {share:5.1f}%")
            w("Customers per channel:")
            for name, count in report["channels"].items():
                w(f"  {name:<18} {count}")
        if report["problems"]:
            for problem in report["problems"]:
                self.stderr.write(self.style.ERROR(problem))
            raise CommandError("Data quality invariants are broken.", returncode=1)
        if not as_json:
            self.stdout.write(self.style.SUCCESS("All invariants hold."))


def _dumps(report) -> str:
    return json.dumps(report, indent=2, default=str)
