"""``manage.py partitions [--ensure] [--maintain]``: the monthly partitions of the history tables.

Without options it reports, per partitioned table, its partitions, the oldest month and how many
whole months ahead exist (the daily task ``focusedroom.partitions_maintain`` keeps
``PARTITIONS_MONTHS_AHEAD``). ``--ensure`` creates the missing months ahead now; ``--maintain``
runs the whole daily job (months ahead, then every table's retention).
"""

from django.core.management.base import BaseCommand

from focusedroom import partitions


class Command(BaseCommand):
    help = "Report the history tables' monthly partitions; --ensure creates the months ahead, --maintain runs the job."

    def add_arguments(self, parser):
        parser.add_argument("--ensure", action="store_true", help="Create the missing months ahead.")
        parser.add_argument("--maintain", action="store_true", help="Months ahead, then retention (the daily job).")

    def handle(self, *args, ensure: bool, maintain: bool, **options):
        if maintain:
            report = partitions.partitions_maintain()
            for table, created in report.created.items():
                self.stdout.write(f"{table}: created {', '.join(created) or 'nothing'}")
            for name, result in report.retention.items():
                self.stdout.write(f"retention {name}: {result if result is not None else 'off'}")
        elif ensure:
            for entry in partitions.registries.partitioned_tables.entries():
                created = partitions.partitions_ensure_ahead(table=entry.table)
                self.stdout.write(f"{entry.table}: created {', '.join(created) or 'nothing'}")
        for status in partitions.partitions_status():
            if not status.partitioned:
                self.stdout.write(f"{status.table}: not partitioned")
                continue
            self.stdout.write(
                f"{status.table}: {status.partitions} monthly partitions from {status.oldest:%Y-%m}, "
                f"{status.months_ahead} months ahead (covered until {status.covered_until:%Y-%m})"
            )
