"""``manage.py experiment_report <key> [--json]``: an experiment's results table."""

import json

from django.core.management.base import BaseCommand, CommandError

from experiments.models import Experiment
from experiments.results import pct
from experiments.selectors import experiment_results


class Command(BaseCommand):
    help = "Print an experiment's results (participants, conversion rates, uplift, significance, SRM)."

    def add_arguments(self, parser):
        parser.add_argument("key", help="Experiment key (slug).")
        parser.add_argument("--json", action="store_true", help="Print the results as JSON.")

    def handle(self, *args, key: str, json: bool = False, **options):
        experiment = Experiment.objects.filter(key=key).first()
        if experiment is None:
            raise CommandError(f"No experiment with key '{key}'.")
        results = experiment_results(experiment=experiment)
        if json:
            self.stdout.write(_dumps(results))
            return
        e = results["experiment"]
        self.stdout.write(f"{e['name']} ({e['key']}) — {e['status']}, confidence {pct(e['confidence_level'])}")
        for w in results["warnings"]:
            self.stdout.write(self.style.WARNING(f"! {w['message']}"))
        self.stdout.write(
            f"participants {results['participants']:,} · SRM p = {results['srm']['p_value']:.4f}"
            f" · multiple exposures {pct(results['multiple_exposure_share'], 2)}"
        )
        header = (
            f"{'variant':<22}{'participants':>13}{'converted':>11}{'rate':>9}{'uplift':>9}"
            f"{'95% CI':>21}{'p (Holm)':>10}{'P(beat)':>9}"
        )
        for metric in results["metrics"]:
            self.stdout.write("")
            self.stdout.write(self.style.MIGRATE_HEADING(metric["conversion_type"]))
            self.stdout.write(header.replace("95%", pct(e["confidence_level"]).replace(" ", "")))
            for v in metric["variants"]:
                line = (
                    f"{v['name'][:21]:<22}{v['participants']:>13,}{v['converters']:>11,}"
                    f"{v['conversion_rate'] * 100:>8.2f}%"
                )
                if not v["is_control"]:
                    ci = f"[{v['ci'][0] * 100:+.1f}%, {v['ci'][1] * 100:+.1f}%]"
                    line += (
                        f"{v['uplift'] * 100:>+8.1f}%{ci:>21}{v['p_value_holm']:>10.4f}"
                        f"{v['chance_to_win'] * 100:>8.1f}%"
                    )
                self.stdout.write(line)
            for v in metric["variants"]:
                if not v["is_control"]:
                    self.stdout.write(f"  {v['verdict']}")


def _dumps(data) -> str:
    return json.dumps(data, indent=2, default=str)
