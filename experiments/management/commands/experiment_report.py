"""``manage.py experiment_report <key> [--json]``: an experiment's results table."""

import json

from django.core.management.base import BaseCommand, CommandError

from experiments.models import Experiment
from experiments.results import pct
from experiments.selectors import experiment_results

DECISIONS = {"ship": "SHIP", "keep_control": "KEEP CONTROL", "keep_running": "KEEP RUNNING"}


class Command(BaseCommand):
    help = (
        "Print an experiment's results: the method (sequential or fixed horizon), conversion rates, uplift, "
        "decisions, regression adjustment, guardrails, segments, SRM."
    )

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
        if results["method"] == "sequential":
            method = f"sequential testing (valid at any look; tuned for {e['sequential_tuning']:,} participants)"
        else:
            method = "fixed-horizon test (decidable once, at the planned sample)"
        adjustment = (
            f"regression adjustment on ({e['pre_exposure_window_days']} days before exposure + Big Five traits)"
            if e["regression_adjustment"]
            else "no regression adjustment"
        )
        self.stdout.write(f"method: {method}; {adjustment}")
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
                if v["is_control"]:
                    continue
                self.stdout.write(f"  [{DECISIONS[v['decision']]}] {v['verdict']}")
                if v.get("cuped"):
                    self.stdout.write(
                        f"  adjusted for pre-exposure data: interval {pct(v['cuped']['interval_narrower'])} narrower "
                        f"(unadjusted uplift {v['unadjusted']['uplift'] * 100:+.1f}%)"
                    )
                self.stdout.write(
                    f"  {v['name']} beats the control with {pct(v['chance_to_win'])} probability (Bayesian, "
                    "for information)."
                )
            segments = metric["segments"]
            if segments["comparisons"]:
                self.stdout.write(
                    f"  segments: {segments['comparisons']} comparisons, {segments['findings']} hypotheses worth a "
                    "new experiment (Benjamini–Hochberg; --json for the details)"
                )
        if results["guardrails"]:
            self.stdout.write("")
            self.stdout.write(self.style.MIGRATE_HEADING("guardrails"))
            for g in results["guardrails"]:
                for row in g["variants"]:
                    if not row["is_control"]:
                        style = self.style.ERROR if row["status"] == "harm" else (lambda s: s)
                        self.stdout.write(style(f"  {g['label']}: [{row['status']}] {row['message']}"))


def _dumps(data) -> str:
    return json.dumps(data, indent=2, default=str)
