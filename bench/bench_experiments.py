"""Experiments: exposure API throughput and results computation at scale.

1. ``POST /api/v1/experiments/<key>/exposures/`` (anonymous visitor: cached definition,
   hash assignment, participation upsert, impression insert) against ``GET /healthz`` of
   the same server.
2. ``experiment_results`` for an experiment with 1,000,000 participants, 3,000,000
   impressions and 100,000 conversions, against a hand-written SQL aggregate (participants
   and converters per variant) over the same tables. Participants have a device and (three in
   four) a channel, and one in ten took the Big Five before exposure, so the results compute
   eight segment dimensions and the personality adjustment as in production. The data is
   generated once with ``INSERT … SELECT generate_series`` and reused by later runs.
"""

from __future__ import annotations

import time
from decimal import Decimal

from common import Result, live_server, per_call, throughput

PARTICIPANTS = 1_000_000
IMPRESSIONS_PER_PARTICIPANT = 3
RESULTS_KEY = "bench-results"
EXPOSURE_KEY = "bench-exposures"

BASELINE_SQL = """
SELECT p.variant_id, count(*) AS participants, count(c.participation_id) AS converters
  FROM user_experiment_participation p
  LEFT JOIN (SELECT DISTINCT participation_id FROM conversions
              WHERE experiment_id = %s AND conversion_type = 'signup' AND conversion_within_window) c
         ON c.participation_id = p.id
 WHERE p.experiment_id = %s AND p.was_eligible_at_exposure AND NOT p.has_multiple_exposures
 GROUP BY p.variant_id
"""


def _experiment(key: str):
    from experiments import services
    from experiments.models import Experiment

    experiment = Experiment.objects.filter(key=key).first()
    if experiment is None:
        experiment = services.experiment_create(
            data={"name": f"Benchmark {key}", "key": key},
            variants=[{"name": "control", "weight": Decimal("0.5")}, {"name": "treatment", "weight": Decimal("0.5")}],
        )
        experiment = services.experiment_start(experiment=experiment)
    return experiment


def _generate(experiment) -> str:
    from django.db import connection

    from experiments.models import Participation

    if Participation.objects.filter(experiment=experiment).count() == PARTICIPANTS:
        return _describe(experiment) or "reused"
    control, treatment = (str(v.pk) for v in experiment.variants.order_by("position"))
    eid = str(experiment.pk)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("conversion_attribution", "conversions", "impressions", "user_experiment_participation"):
            cursor.execute(f"DELETE FROM {table} WHERE experiment_id = %s", [eid])
        cursor.execute(
            """
            INSERT INTO user_experiment_participation
                (id, anonymous_id, experiment_id, variant_id, first_exposure_date, was_eligible_at_exposure,
                 total_impressions, has_multiple_exposures)
            SELECT gen_random_uuid(), 'bench-' || g, %s,
                   CASE WHEN g %% 2 = 0 THEN %s::uuid ELSE %s::uuid END,
                   now() - interval '20 days' + (g %% 1728000) * interval '1 second',
                   g %% 50 <> 0, %s, g %% 200 = 0
              FROM generate_series(1, %s) g
            """,
            [eid, control, treatment, IMPRESSIONS_PER_PARTICIPANT, PARTICIPANTS],
        )
        cursor.execute(
            """
            INSERT INTO impressions (id, anonymous_id, experiment_id, variant_id, impression_at, is_first_exposure)
            SELECT gen_random_uuid(), p.anonymous_id, p.experiment_id, p.variant_id,
                   p.first_exposure_date + n * interval '1 hour', n = 0
              FROM user_experiment_participation p, generate_series(0, %s) n
             WHERE p.experiment_id = %s
            """,
            [IMPRESSIONS_PER_PARTICIPANT - 1, eid],
        )
        # 100,000 conversions: 9 % of control and 11 % of treatment participants.
        cursor.execute(
            """
            INSERT INTO conversions
                (id, anonymous_id, participation_id, experiment_id, variant_id, conversion_type, created_at,
                 conversion_value, original_exposure_date, time_to_convert, conversion_within_window,
                 conversion_eligibility_verified)
            SELECT gen_random_uuid(), p.anonymous_id, p.id, p.experiment_id, p.variant_id, 'signup',
                   p.first_exposure_date + interval '2 hours', (substr(p.anonymous_id, 7)::int %% 50) + 0.99,
                   p.first_exposure_date, 7200, true, p.was_eligible_at_exposure AND NOT p.has_multiple_exposures
              FROM user_experiment_participation p
             WHERE p.experiment_id = %s
               AND (substr(p.anonymous_id, 7)::int / 2) %% 100 < CASE WHEN p.variant_id = %s::uuid THEN 9 ELSE 11 END
            """,
            [eid, control],
        )
        cursor.execute(
            "UPDATE user_experiment_participation p SET has_converted = true, conversion_within_window = true,"
            " first_conversion_date = p.first_exposure_date + interval '2 hours'"
            " WHERE p.id IN (SELECT participation_id FROM conversions WHERE experiment_id = %s)",
            [eid],
        )
        for table in ("user_experiment_participation", "impressions", "conversions"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    _describe(experiment)
    return f"generated in {time.perf_counter() - started:.0f} s"


def _level(percentile: str) -> str:
    return f"CASE WHEN {percentile} < 30 THEN 'low' WHEN {percentile} > 70 THEN 'high' ELSE 'average' END"


def _describe(experiment) -> str:
    """What participations know at their first exposure, as in production: a device for every one, an
    acquisition channel for three in four (the rest were visitors), and Big Five traits measured before
    the exposure for one in ten — so segments and the personality adjustment are part of the work."""
    from django.db import connection

    from experiments.models import Participation

    if Participation.objects.filter(experiment=experiment, device_type__isnull=False).exists():
        return ""
    started = time.perf_counter()
    # (Percent signs are doubled: the statement takes a parameter.)
    factors = dict(zip("NEOAC", (7, 11, 13, 17, 19), strict=True))
    percentiles = {d: f"((substr(anonymous_id, 7)::int * {k}) %% 99 + 1)" for d, k in factors.items()}
    traits = (
        "jsonb_build_object('percentiles', jsonb_build_object("
        + ", ".join(f"'{d}', {p}" for d, p in percentiles.items())
        + "), 'levels', jsonb_build_object("
        + ", ".join(f"'{d}', {_level(p)}" for d, p in percentiles.items())
        + "), 'norm_group', CASE WHEN substr(anonymous_id, 7)::int %% 3 = 0 THEN 'F_21_40' ELSE 'M_21_40' END,"
        " 'measured_at', to_jsonb(first_exposure_date - interval '3 days'))"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE user_experiment_participation
               SET device_type = (ARRAY['desktop', 'mobile', 'tablet'])[substr(anonymous_id, 7)::int %% 3 + 1],
                   acquisition_channel = NULLIF(substr(anonymous_id, 7)::int %% 4, 0),
                   pre_exposure_traits = CASE WHEN substr(anonymous_id, 7)::int %% 10 = 0 THEN {traits} END
             WHERE experiment_id = %s
            """,
            [str(experiment.pk)],
        )
        cursor.execute("VACUUM ANALYZE user_experiment_participation")
    return f"segments and traits added in {time.perf_counter() - started:.0f} s"


def run() -> list[Result]:
    from django.db import connection

    from experiments.models import Conversion, Impression, Participation
    from experiments.results import experiment_results

    results = []

    _experiment(EXPOSURE_KEY)
    with live_server(workers=2) as url:
        health = throughput(url + "/healthz", concurrency=4, duration=5)
        exposures = throughput(
            url + f"/api/v1/experiments/{EXPOSURE_KEY}/exposures/",
            method="POST",
            body_factory=lambda i: {
                "participant": {"anonymous_id": f"bench-visitor-{i:012d}"},
                "page_url": "/big-five/",
            },
            concurrency=4,
            duration=5,
        )
    results.append(
        Result(
            "POST /api/v1/experiments/<key>/exposures/ (anonymous)",
            exposures,
            "req/s",
            "GET /healthz",
            health,
            "cached definition + hash + participation upsert + impression insert",
        )
    )

    experiment = _experiment(RESULTS_KEY)
    note = _generate(experiment)
    counts = (
        Participation.objects.filter(experiment=experiment).count(),
        Impression.objects.filter(experiment=experiment).count(),
        Conversion.objects.filter(experiment=experiment).count(),
    )

    def ours():
        experiment_results(experiment=experiment, conversion_types=["signup"])

    def baseline():
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [experiment.pk, experiment.pk])
            cursor.fetchall()

    base = per_call(baseline, repeat=7, warmup=2)
    mine = per_call(ours, repeat=7, warmup=2)
    results.append(
        Result(
            f"experiment results ({counts[0]:,} participants, {counts[1]:,} impressions, {counts[2]:,} conversions)",
            mine * 1000,
            "ms",
            "hand-written SQL aggregate",
            base * 1000,
            f"lower is better, target ≤ 1.5×; data {note}",
            higher_is_better=False,
        )
    )
    return results
