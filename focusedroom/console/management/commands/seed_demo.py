"""Demo data for every app, idempotent: ``manage.py seed_demo [--scale N]``."""

import time
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection

from focusedroom.bulk import bulk_enabled

# Each app's demo builds on the people and results the apps before it created.
APPS = ["accounts", "engagement", "experiments", "rewards", "profiles", "integrations"]


class Command(BaseCommand):
    help = (
        "Load coherent demo data (idempotent). Each app adds its part from <app>/demo.py; "
        "large scales (e.g. --scale 1000000) are written with set-based SQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=60, help="Number of demo customers (default 60).")

    def handle(self, *args, scale: int, **options):
        started = time.monotonic()
        for label in APPS:
            try:
                module = import_module(f"{label}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{label}.demo":
                    raise
                continue
            app_started = time.monotonic()
            summary = module.seed(scale=scale)
            name = apps.get_app_config(label).verbose_name
            self.stdout.write(f"{name}: {summary} [{time.monotonic() - app_started:.1f}s]")
        if bulk_enabled(scale):
            analyze_started = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # fresh planner statistics after a bulk load
            self.stdout.write(f"Statistics refreshed (ANALYZE) [{time.monotonic() - analyze_started:.1f}s]")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.monotonic() - started:.1f}s."))
