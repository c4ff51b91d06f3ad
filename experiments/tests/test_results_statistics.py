"""Results: the method in force, regression adjustment from SQL sums, the decision rule, segments and
multiple exposures — checked against the same statistics computed from the raw rows."""

import math
import random
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from experiments import services, stats
from experiments.models import Conversion, Participation
from experiments.results import COVARIATES, MULTIPLE_EXPOSURE_CAUSES, SEGMENT_MIN_PARTICIPANTS_PER_VARIANT, pass_sql
from experiments.selectors import experiment_results

DEVICES = ["desktop", "mobile", "tablet"]
LEVELS = ["low", "average", "high"]


def traits(rng: random.Random) -> dict:
    percentiles = {d: rng.randint(1, 99) for d in "NEOAC"}
    return {
        "percentiles": percentiles,
        "levels": {d: "low" if p < 30 else ("high" if p > 70 else "average") for d, p in percentiles.items()},
        "norm_group": rng.choice(["F_21_40", "M_21_40", "all_all"]),
        "measured_at": "2026-01-01T00:00:00+00:00",
    }


def populate(experiment, *, n_per_variant, rate, lift=0.0, seed=1, with_traits=0.6, pre=True, start=None):
    """Participants (anonymous), some with Big Five traits, converting with a probability that depends on
    their traits and on a conversion of the same type before exposure (recorded for another experiment).

    Returns the raw rows ``(variant name, y, yv, x, xv, took, N…C)`` the statistics must agree with.
    """
    rng = random.Random(seed)
    start = start or timezone.now() - timedelta(days=3)
    type(experiment).objects.filter(pk=experiment.pk).update(started_at=start)  # started when exposures began
    experiment.started_at = start
    control, *others = list(experiment.variants.order_by("position"))
    other = services.experiment_start(
        experiment=services.experiment_create(
            data={"name": f"Earlier {experiment.key}", "key": f"earlier-{experiment.key}"},
            variants=[{"name": "a", "weight": Decimal("0.5")}, {"name": "b", "weight": Decimal("0.5")}],
        )
    )
    other_variant = other.variants.get(name="a")
    participations, conversions, earlier, rows = [], [], [], []
    for variant in [control, *others]:
        for i in range(n_per_variant):
            visitor = f"{experiment.key[:10]}-{variant.position}-{i:05d}"
            exposed = start + timedelta(minutes=i)
            t = traits(rng) if rng.random() < with_traits else None
            p = Participation(
                experiment=experiment,
                variant=variant,
                anonymous_id=visitor,
                first_exposure_date=exposed,
                device_type=rng.choice(DEVICES),
                acquisition_channel=rng.choice([None, 1, 2, 3]),
                pre_exposure_traits=t,
            )
            participations.append(p)
            # Before exposure: some converted already (recorded for the other experiment), once inside the
            # 14-day window (counted), sometimes also 20 days before (outside the window: not counted).
            x = xv = 0.0
            if pre and rng.random() < 0.3:
                value = round(rng.uniform(1, 30), 2)
                x, xv = 1.0, value
                ep = Participation(
                    experiment=other, variant=other_variant, anonymous_id=visitor, first_exposure_date=exposed
                )
                earlier.append(ep)
                when = exposed - timedelta(days=rng.randint(1, 13))
                for _ in range(2 if rng.random() < 0.2 else 1):  # the same conversion seen twice counts once
                    conversions.append(
                        Conversion(
                            participation=ep,
                            variant=other_variant,
                            experiment=other,
                            anonymous_id=visitor,
                            conversion_type="signup",
                            created_at=when,
                            conversion_value=Decimal(str(value)),
                            conversion_within_window=True,
                            conversion_eligibility_verified=True,
                        )
                    )
                conversions.append(
                    Conversion(
                        participation=ep,
                        variant=other_variant,
                        experiment=other,
                        anonymous_id=visitor,
                        conversion_type="signup",
                        created_at=exposed - timedelta(days=20),
                        conversion_value=Decimal("99"),
                        conversion_within_window=True,
                        conversion_eligibility_verified=True,
                    )
                )
            centred = [(t["percentiles"][d] - 50) / 100 for d in "NEOAC"] if t else [0.0] * 5
            chance = (
                rate * (1 + (lift if variant is not control else 0)) * (1 + 1.5 * x) * (1 + centred[1] - centred[4])
            )
            y = 1.0 if rng.random() < chance else 0.0
            yv = 0.0
            if y:
                yv = round(rng.uniform(5, 50) + 10 * x, 2)
                conversions.append(
                    Conversion(
                        participation=p,
                        variant=variant,
                        experiment=experiment,
                        anonymous_id=visitor,
                        conversion_type="signup",
                        created_at=exposed + timedelta(hours=1),
                        conversion_value=Decimal(str(yv)),
                        conversion_within_window=True,
                        conversion_eligibility_verified=True,
                    )
                )
            rows.append((variant.name, y, yv, x, xv, 1.0 if t else 0.0, *centred))
    Participation.objects.bulk_create(participations + earlier)
    Conversion.objects.bulk_create(conversions)
    return rows


def raw_moments(rows, name, *, value):
    data = np.array([r[1:] for r in rows if r[0] == name])
    y, x = (data[:, 1], data[:, 3]) if value else (data[:, 0], data[:, 2])
    return stats.moments_from_values(np.column_stack([y, x, data[:, 4:]]))


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.fixture
def adjusted(make_experiment):
    experiment = make_experiment(key="cuped-test")
    rows = populate(experiment, n_per_variant=400, rate=0.15, lift=0.1)
    return experiment, rows


def test_the_sql_sums_give_the_statistics_of_the_raw_rows(adjusted):
    experiment, rows = adjusted
    results = experiment_results(experiment=experiment)
    [metric] = results["metrics"]
    control, challenger = metric["variants"]
    assert results["method"] == metric["method"] == challenger["method"] == "sequential"
    for value, prefix in ((False, ""), (True, "value_")):
        kinds = [stats.MEAN] * 8 if value else [stats.PROPORTION, stats.PROPORTION, *[stats.MEAN] * 6]
        a, b = raw_moments(rows, "control", value=value), raw_moments(rows, "variant-1", value=value)
        adjustment = stats.regression_adjustment(a, b, kinds=kinds, names=COVARIATES)
        assert adjustment.adjusted and set(adjustment.covariates) == set(COVARIATES)
        expected = stats.sequential(adjustment.a, adjustment.b, alpha=0.05, tuning=5000)
        plain = stats.sequential(stats.unadjusted(a, kinds[0]), stats.unadjusted(b, kinds[0]), alpha=0.05)
        cuped = challenger[f"{prefix}cuped"]
        for name in COVARIATES:
            assert close(cuped["theta"][name], adjustment.theta[name])
        assert close(challenger[f"{prefix}uplift"], expected["uplift"])
        assert close(challenger[f"{prefix}p_value"], expected["p_value"])
        assert close(challenger[f"{prefix}ci"][0], expected["ci"][0])
        gain = stats.variance_reduction(expected, plain)
        assert close(cuped["variance_reduction"], gain["variance_reduction"])
        assert cuped["variance_reduction"] > 0
    assert close(challenger["unadjusted"]["uplift"], plain_uplift(rows))
    assert control["participants"] == challenger["participants"] == 400
    assert results["variants"][0]["with_big_five"] == sum(1 for r in rows if r[0] == "control" and r[5])


def plain_uplift(rows):
    rate = {name: np.mean([r[1] for r in rows if r[0] == name]) for name in ("control", "variant-1")}
    return (rate["variant-1"] - rate["control"]) / rate["control"]


def test_without_adjustment_the_plain_test_is_reported(make_experiment):
    experiment = make_experiment(key="plain-test", regression_adjustment=False)
    rows = populate(experiment, n_per_variant=300, rate=0.2)
    [metric] = experiment_results(experiment=experiment)["metrics"]
    challenger = metric["variants"][1]
    assert challenger["cuped"] is None and challenger["unadjusted"] is None
    expected = stats.sequential(
        stats.unadjusted(raw_moments(rows, "control", value=False), stats.PROPORTION),
        stats.unadjusted(raw_moments(rows, "variant-1", value=False), stats.PROPORTION),
        alpha=0.05,
    )
    assert close(challenger["p_value"], expected["p_value"]) and close(challenger["uplift"], expected["uplift"])


def test_the_api_gives_method_p_value_ci_and_cuped_per_metric_and_variant(adjusted, staff_client):
    experiment, _ = adjusted
    body = staff_client("experiments.view_experiment").get(f"/api/v1/experiments/{experiment.key}/results/").json()
    challenger = body["metrics"][0]["variants"][1]
    assert challenger["method"] == "sequential"
    assert {"p_value", "ci", "decision", "verdict", "significant"} <= set(challenger)
    assert {"theta", "variance_reduction", "interval_narrower", "covariates"} <= set(challenger["cuped"])
    assert set(body["metrics"][0]["segments"]) >= {"note", "dimensions", "correction", "min_participants_per_variant"}
    assert isinstance(body["guardrails"], list) and body["method"] == "sequential"
    assert body["experiment"]["sequential_tuning"] == 5000


# ------------------------------------------------------------------------ decision rule


def strong_effect(make_experiment, key, **fields):
    experiment = make_experiment(key=key, **fields)
    populate(experiment, n_per_variant=1000, rate=0.10, lift=1.0, with_traits=0, pre=False)
    return experiment


def test_a_peeked_fixed_horizon_result_is_never_called_significant(make_experiment, staff_with_perms):
    experiment = strong_effect(make_experiment, "fixed-peek", target_sample_size=10_000)
    experiment.sequential_testing = False  # a draft could choose it; set directly for the test's data
    experiment.save(update_fields=["sequential_testing"])
    results = experiment_results(experiment=experiment)
    challenger = results["metrics"][0]["variants"][1]
    assert challenger["method"] == "fixed_horizon" and challenger["p_value"] < 0.001
    assert challenger["significant"] is False
    assert (challenger["decision"], challenger["reason"]) == ("keep_running", "planned_sample_not_reached")
    assert "not yet decidable — planned sample not reached (2,000 of 10,000 participants)" in challenger["verdict"]
    assert results["metrics"][0]["planned_sample"] == {
        "participants": 10_000,
        "source": "target_sample_size",
        "reached": False,
    }

    client = Client()
    client.force_login(staff_with_perms("experiments.view_experiment"))
    html = client.get(f"/admin/experiments/experiment/{experiment.pk}/results/").content.decode()
    assert "Method: fixed-horizon test" in html and "not yet decidable" in html
    assert "Ship" not in html and "significant at" not in html

    # The planned sample reached: the same data may now be acted on.
    experiment = services.experiment_update(experiment=experiment, data={"target_sample_size": 2000})
    challenger = experiment_results(experiment=experiment)["metrics"][0]["variants"][1]
    assert challenger["significant"] is True and challenger["decision"] == "ship"
    assert challenger["verdict"].startswith("Ship variant-1: it converts +")


def test_without_a_plan_a_fixed_horizon_test_asks_for_one(make_experiment):
    experiment = strong_effect(make_experiment, "fixed-noplan", minimum_detectable_effect=Decimal("0.0001"))
    experiment.sequential_testing = False
    experiment.save(update_fields=["sequential_testing"])
    metric = experiment_results(experiment=experiment)["metrics"][0]
    # The power calculation plans a huge sample for a 0.01 % effect: not reached.
    assert metric["planned_sample"]["source"] == "power" and not metric["planned_sample"]["reached"]
    assert metric["variants"][1]["significant"] is False


def test_sequential_results_may_be_acted_on_at_any_look(make_experiment, staff_with_perms):
    experiment = strong_effect(make_experiment, "seq-look", target_sample_size=10_000)
    challenger = experiment_results(experiment=experiment)["metrics"][0]["variants"][1]
    assert challenger["method"] == "sequential" and challenger["significant"] is True
    assert challenger["decision"] == "ship" and "sequential test, valid whenever you look" in challenger["verdict"]
    client = Client()
    client.force_login(staff_with_perms("experiments.view_experiment"))
    html = client.get(f"/admin/experiments/experiment/{experiment.pk}/results/").content.decode()
    assert "Method: sequential testing" in html and "Ship" in html


def test_no_difference_keeps_running_then_keeps_the_control_once_stopped(make_experiment):
    experiment = make_experiment(key="flat")
    populate(experiment, n_per_variant=300, rate=0.2, lift=0.0, seed=5, with_traits=0, pre=False)
    challenger = experiment_results(experiment=experiment)["metrics"][0]["variants"][1]
    assert challenger["decision"] == "keep_running" and challenger["verdict"].startswith("Keep running")
    services.experiment_stop(experiment=experiment)
    experiment.refresh_from_db()
    challenger = experiment_results(experiment=experiment)["metrics"][0]["variants"][1]
    assert challenger["decision"] == "keep_control" and "no difference detected" in challenger["verdict"]


# ---------------------------------------------------------------------------- segments


def test_segments_are_corrected_with_benjamini_hochberg_and_need_enough_data(adjusted):
    experiment, rows = adjusted
    segments = experiment_results(experiment=experiment)["metrics"][0]["segments"]
    assert "hypotheses" in segments["note"] and segments["correction"] == "benjamini_hochberg"
    dimensions = {d["dimension"]: d for d in segments["dimensions"]}
    assert set(dimensions) == {"device", "channel", "norm_group", "level_N", "level_E", "level_O", "level_A", "level_C"}
    devices = {s["value"]: s for s in dimensions["device"]["segments"]}
    assert set(devices) == set(DEVICES)
    participations = Participation.objects.filter(experiment=experiment)
    mobile_control = participations.filter(device_type="mobile", variant__is_control=True)
    assert devices["mobile"]["variants"][0]["participants"] == mobile_control.count()
    assert devices["mobile"]["variants"][0]["converters"] == (
        Conversion.objects.filter(experiment=experiment, participation__in=mobile_control).count()
    )
    # Trait levels describe only those who took the test before exposure; no "unknown" trait segment.
    assert {s["value"] for s in dimensions["level_N"]["segments"]} <= set(LEVELS)
    assert sum(s["variants"][0]["participants"] for s in dimensions["level_N"]["segments"]) == sum(
        1 for r in rows if r[0] == "control" and r[5]
    )
    # Every comparison with enough data is corrected together; small segments are not compared.
    compared = [c for d in segments["dimensions"] for s in d["segments"] for c in s["comparisons"] if "q_value" in c]
    assert len(compared) == segments["comparisons"] > 0
    assert [c["q_value"] for c in compared] == pytest.approx(stats.benjamini_hochberg([c["p_value"] for c in compared]))
    small = [
        (s, c) for d in segments["dimensions"] for s in d["segments"] for c in s["comparisons"] if not c["enough_data"]
    ]
    for segment, comparison in small:
        assert min(v["participants"] for v in segment["variants"]) < SEGMENT_MIN_PARTICIPANTS_PER_VARIANT
        assert "q_value" not in comparison


# -------------------------------------------------------------------- multiple exposures


@pytest.mark.parametrize(("multiple", "shown"), [(4, False), (6, True)])
def test_multiple_exposures_are_shown_from_half_a_percent_with_their_likely_causes(make_experiment, multiple, shown):
    experiment = make_experiment(key=f"multi-{multiple}")
    control, challenger = experiment.variants.order_by("position")
    Participation.objects.bulk_create(
        [
            Participation(
                experiment=experiment,
                variant=control if i % 2 else challenger,
                anonymous_id=f"multi-visitor-{i:05d}",
                has_multiple_exposures=i < multiple,
            )
            for i in range(1000)
        ]
    )
    results = experiment_results(experiment=experiment)
    assert results["multiple_exposures"]["share"] == multiple / 1000
    assert results["multiple_exposures"]["shown"] is shown
    warning = next((w for w in results["warnings"] if w["code"] == "multiple_exposures"), None)
    if shown:
        assert warning["causes"] == MULTIPLE_EXPOSURE_CAUSES == results["multiple_exposures"]["causes"]
        assert "0.6 %" in warning["message"] and "several browsers or devices" in warning["message"]
    else:
        assert warning is None and results["multiple_exposures"]["causes"] == []


def test_the_participants_pass_is_planned_over_its_cells(make_experiment):
    """With the statistics of migration 0005 PostgreSQL knows how many cells the pass makes (variant ×
    device × channel × Big Five segment), so it plans a hash aggregate of about that many groups instead
    of guessing a tenth of the rows (and sorting every participation)."""
    experiment = make_experiment(key="plan-test")
    populate(experiment, n_per_variant=3000, rate=0.1, with_traits=0.02, pre=False)
    params = {
        "experiment": experiment.id,
        "window": timedelta(days=14),
        "since": experiment.started_at,
        "types": ["signup"],
        "type_0": "signup",
    }
    sql = pass_sql(1, adjusted=True, pre=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE user_experiment_participation")
        cursor.execute(sql, params)
        cells = len(cursor.fetchall())
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]["Plan"]
    assert cells < 300 < 600  # 6,000 participations; a tenth of them is what PostgreSQL guesses without statistics
    assert plan["Plan Rows"] <= 2 * cells
