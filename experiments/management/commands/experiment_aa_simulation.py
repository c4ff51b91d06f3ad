"""``manage.py experiment_aa_simulation [--json]``: the A/A simulation behind FocusedRoom's choice of methods.

2,000 A/A experiments looked at every day for 30 days: the share called significant by the
fixed-horizon test peeked daily, read once, and by the sequential test; then regression adjustment
(CUPED) on a metric with a correlated pre-period and Big Five traits. ``make bench`` runs it.
"""

import json

from django.core.management.base import BaseCommand

from experiments import simulation


class Command(BaseCommand):
    help = "Simulate A/A experiments peeked daily: false-positive rates of each method, and CUPED's variance reduction."

    def add_arguments(self, parser):
        defaults = simulation.Settings()
        parser.add_argument("--experiments", type=int, default=defaults.experiments)
        parser.add_argument("--days", type=int, default=defaults.days)
        parser.add_argument("--daily-per-arm", type=int, default=defaults.daily_per_arm)
        parser.add_argument("--cuped-experiments", type=int, default=defaults.cuped_experiments)
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args, **options):
        settings = simulation.Settings(
            experiments=options["experiments"],
            days=options["days"],
            daily_per_arm=options["daily_per_arm"],
            cuped_experiments=options["cuped_experiments"],
            seed=options["seed"],
        )
        figures = simulation.run(settings)
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2))
            return
        fp, cuped = figures["false_positives"], figures["cuped"]
        pct = lambda x: f"{x * 100:.1f} %"  # noqa: E731
        self.stdout.write(
            f"{settings.experiments:,} A/A experiments, looked at daily for {settings.days} days "
            f"(about {fp['participants_per_experiment']:,.0f} participants each, {settings.rate:.0%} conversion), "
            f"α = {settings.alpha}:"
        )
        self.stdout.write(f"  fixed horizon, peeked daily : {pct(fp['fixed_horizon_peeked_daily'])} called significant")
        self.stdout.write(f"  fixed horizon, one look     : {pct(fp['fixed_horizon_one_look'])}")
        self.stdout.write(f"  sequential, peeked daily    : {pct(fp['sequential_peeked_daily'])} (goal ≤ 5 %)")
        self.stdout.write(
            f"CUPED on a revenue-like metric ({cuped['experiments']} A/A experiments of "
            f"{cuped['participants_per_experiment']:,} participants; correlation with the pre-period "
            f"{cuped['correlation_with_pre_period']:.2f}; 60 % took the Big Five before exposure):"
        )
        self.stdout.write(
            f"  variance reduction, pre-period alone          : {pct(cuped['variance_reduction_pre_exposure'])}"
        )
        self.stdout.write(
            f"  variance reduction, pre-period + personality  : "
            f"{pct(cuped['variance_reduction_pre_exposure_and_personality'])} "
            f"(observed across the experiments: {pct(cuped['empirical_variance_reduction'])})"
        )
        self.stdout.write(f"  intervals narrower than without adjustment    : {pct(cuped['interval_narrower'])}")
        self.stdout.write(
            f"  A/A false positives with adjustment, peeked daily: sequential {pct(cuped['sequential_peeked_daily'])}, "
            f"fixed horizon {pct(cuped['fixed_horizon_peeked_daily'])}"
        )
        seconds = figures["seconds"]
        self.stdout.write(f"({seconds['false_positives'] + seconds['cuped']:.1f} s)")
