"""Statistics: the A/A simulation (``manage.py experiment_aa_simulation``).

2,000 A/A experiments peeked daily for 30 days. Each figure is compared with its baseline in the
same run: the false-positive rates with the nominal 5 % the tests promise, the regression-adjusted
interval width with the unadjusted width of the same experiments.
"""

from __future__ import annotations

import json
from io import StringIO

from common import Result


def run() -> list[Result]:
    from django.core.management import call_command

    out = StringIO()
    call_command("experiment_aa_simulation", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    fp, cuped = figures["false_positives"], figures["cuped"]
    n = figures["settings"]["experiments"]
    seconds = figures["seconds"]["false_positives"] + figures["seconds"]["cuped"]
    nominal = figures["settings"]["alpha"] * 100
    note = f"{n:,} A/A experiments, 30 daily looks; simulation {seconds:.1f} s"
    return [
        Result(
            "A/A false positives, fixed horizon peeked daily",
            fp["fixed_horizon_peeked_daily"] * 100,
            "%",
            "nominal α",
            nominal,
            note,
            higher_is_better=False,
        ),
        Result(
            "A/A false positives, fixed horizon read once",
            fp["fixed_horizon_one_look"] * 100,
            "%",
            "nominal α",
            nominal,
            note,
            higher_is_better=False,
        ),
        Result(
            "A/A false positives, sequential peeked daily",
            fp["sequential_peeked_daily"] * 100,
            "%",
            "nominal α",
            nominal,
            note + "; goal ≤ 1×",
            higher_is_better=False,
        ),
        Result(
            "CUPED interval width (pre-period + Big Five traits)",
            (1 - cuped["interval_narrower"]) * 100,
            "% of unadjusted",
            "unadjusted interval",
            100.0,
            f"variance −{cuped['variance_reduction_pre_exposure_and_personality'] * 100:.0f} % "
            f"(pre-period alone −{cuped['variance_reduction_pre_exposure'] * 100:.0f} %); "
            f"{cuped['experiments']} experiments",
            higher_is_better=False,
        ),
        Result(
            "A/A false positives, sequential + CUPED peeked daily",
            cuped["sequential_peeked_daily"] * 100,
            "%",
            "nominal α",
            nominal,
            f"{cuped['experiments']} A/A experiments",
            higher_is_better=False,
        ),
    ]
