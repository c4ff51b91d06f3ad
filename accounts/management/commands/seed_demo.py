"""Demo data for every app, idempotent: ``manage.py seed_demo [--scale N]``."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand

from focusedroom.urls import APPS


class Command(BaseCommand):
    help = "Load coherent demo data (idempotent). Each app adds its part from <app>/demo.py."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=60, help="Number of demo customers (default 60).")

    def handle(self, *args, scale: int, **options):
        for label in APPS:
            try:
                module = import_module(f"{label}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{label}.demo":
                    raise
                continue
            summary = module.seed(scale=scale)
            name = apps.get_app_config(label).verbose_name
            self.stdout.write(f"{name}: {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
