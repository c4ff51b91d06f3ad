"""Experiments: exposure API throughput, the database work of an exposure, and results at scale.

1. ``POST /api/v1/experiments/<key>/exposures/`` (anonymous visitor naming its own id: in-memory
   definition, hash assignment, then either the participation upsert and impression insert in the
   request — ``EXPOSURE_BUFFER=sync`` — or one ``XADD`` to the Redis Stream with
   ``manage.py exposure_writer`` running beside the server — ``redis``) against ``GET /healthz`` of
   the same server, production-like (``common.production_env``). Statements per request are counted
   in this process on the same code path.
2. The database work per exposure when the tables hold 1,000,000 participants and 3,000,000
   impressions, in both modes: WAL bytes (``pg_current_wal_lsn()`` before and after, right after a
   ``CHECKPOINT`` so both modes pay the same full-page images; the server is shared, so the lower
   of three rounds is kept) and SQL statements, request and writer together. Half the exposures are
   new participants, half returning ones.
3. ``experiment_results`` for an experiment with 1,000,000 participants, 3,000,000
   impressions and 100,000 conversions, against a hand-written SQL aggregate (participants
   and converters per variant) over the same tables. Participants have a device and (three in
   four) a channel, and one in ten took the Big Five before exposure, so the results compute
   eight segment dimensions and the personality adjustment as in production. The data is
   generated once with ``INSERT … SELECT generate_series`` and reused by later runs.
"""

from __future__ import annotations

import time
from decimal import Decimal

from common import (
    BENCH_REDIS_URL,
    Result,
    background_process,
    live_server,
    per_call,
    statements_per_request,
    throughput,
)

PARTICIPANTS = 1_000_000
IMPRESSIONS_PER_PARTICIPANT = 3
RESULTS_KEY = "bench-results"
EXPOSURE_KEY = "bench-exposures"
WAL_KEY = "bench-wal"
WAL_EXPOSURES = 2000

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


RUN = f"{time.time_ns() // 1_000_000 % 10**10:010d}"  # visitor ids never seen by an earlier run


def _exposure_body(i: int, mode: str = "") -> dict:
    return {"participant": {"anonymous_id": f"bv{mode[:1]}{RUN}-{i:012d}"}, "page_url": "/big-five/"}


def _drain(timeout: float = 120) -> float:
    """Seconds until the exposure writer emptied the stream."""
    from django.test import override_settings

    from experiments import exposure_buffer

    started = time.perf_counter()
    with override_settings(REDIS_URL=BENCH_REDIS_URL, REDIS_KEY_PREFIX="bench:", EXPOSURE_BUFFER="redis"):
        while exposure_buffer.backlog() and time.perf_counter() - started < timeout:
            time.sleep(0.2)
        left = exposure_buffer.backlog()
    if left:
        raise RuntimeError(f"the exposure writer left {left} entries")
    return time.perf_counter() - started


def _exposure_throughput(mode: str) -> tuple[float, float, float]:
    """(exposures/s, healthz/s, SQL statements per exposure request) with ``EXPOSURE_BUFFER=mode``."""
    from django.test import Client, override_settings

    env = {"EXPOSURE_BUFFER": mode}
    url_path = f"/api/v1/experiments/{EXPOSURE_KEY}/exposures/"
    with live_server(workers=2, env=env) as url:
        writer = background_process("exposure_writer", "--consumer", "bench", env=env) if mode == "redis" else None
        with writer or _nothing():
            if writer is not None:
                time.sleep(3)  # the writer has started and waits on the stream (its start-up is not measured)
            health = throughput(url + "/healthz", concurrency=4, duration=5)
            exposures = throughput(
                url + url_path,
                method="POST",
                body_factory=lambda i: _exposure_body(i, mode),
                concurrency=4,
                duration=5,
            )
            if mode == "redis":
                _drain()
    client = Client()
    offset = 900_000_000_000
    with override_settings(REDIS_URL=BENCH_REDIS_URL, REDIS_KEY_PREFIX="bench:", EXPOSURE_BUFFER=mode):
        statements = statements_per_request(
            lambda i: client.post(url_path, _exposure_body(offset + i, mode), content_type="application/json")
        )
        if mode == "redis":
            from django.core.management import call_command

            call_command("exposure_writer", "--once", "--consumer", "bench")
    return exposures, health, statements


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class _Counter:
    """A database execute wrapper counting statements (no cap, unlike Django's query log)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def _wal_per_exposure(mode: str) -> tuple[float, float]:
    """(WAL bytes, SQL statements) per exposure on tables holding a million participants."""
    import random

    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from experiments import services

    experiment = _experiment(WAL_KEY)
    rng = random.Random(7)
    best_wal, statements = float("inf"), 0.0
    for round_ in range(3):
        with connection.cursor() as cursor:
            for table in ("impressions", "user_experiment_participation"):
                cursor.execute(f"DELETE FROM {table} WHERE experiment_id = %s", [str(experiment.pk)])
        # Returning participants: exposed once before the measurement.
        returning = [f"bench-{rng.randrange(1, PARTICIPANTS)}-{round_}" for _ in range(WAL_EXPOSURES // 2)]
        with override_settings(REDIS_URL=BENCH_REDIS_URL, REDIS_KEY_PREFIX="bench:", EXPOSURE_BUFFER="sync"):
            for visitor in returning:
                services.exposure_record(key=WAL_KEY, anonymous_id=visitor)
        visitors = returning + [f"bench-new-{mode}-{round_}-{i}" for i in range(WAL_EXPOSURES // 2)]
        rng.shuffle(visitors)
        with override_settings(REDIS_URL=BENCH_REDIS_URL, REDIS_KEY_PREFIX="bench:", EXPOSURE_BUFFER=mode):
            with connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
                cursor.execute("SELECT pg_current_wal_lsn()")
                (before,) = cursor.fetchone()
            counted = _Counter()
            with connection.execute_wrapper(counted):
                for visitor in visitors:
                    services.exposure_record(key=WAL_KEY, anonymous_id=visitor, tracking={"page_url": "/big-five/"})
                if mode == "redis":
                    call_command("exposure_writer", "--once", "--consumer", "bench-wal", "--batch", "500")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [before])
                (wal,) = cursor.fetchone()
        best_wal = min(best_wal, float(wal) / len(visitors))
        statements = counted.n / len(visitors)
    return best_wal, statements


def run() -> list[Result]:
    from django.db import connection

    from experiments.models import Conversion, Impression, Participation
    from experiments.results import experiment_results

    results = []

    _experiment(EXPOSURE_KEY)
    for mode, label, note in (
        ("sync", "synchronous", "in-memory definition + hash + participation upsert + impression insert"),
        ("redis", "buffered", "in-memory definition + hash + XADD; exposure_writer beside the server"),
    ):
        exposures, health, statements = _exposure_throughput(mode)
        results.append(
            Result(
                f"POST /api/v1/experiments/<key>/exposures/ (anonymous, {label})",
                exposures,
                "req/s",
                "GET /healthz",
                health,
                f"goal ≥ 0.5×; {statements:.1f} SQL statements per request; {note}",
            )
        )

    experiment = _experiment(RESULTS_KEY)
    note = _generate(experiment)
    wal = {mode: _wal_per_exposure(mode) for mode in ("sync", "redis")}
    results.append(
        Result(
            f"database work per exposure at {PARTICIPANTS:,} participants (buffered)",
            wal["redis"][0] / 1024,
            "KB WAL",
            "synchronous",
            wal["sync"][0] / 1024,
            f"lower is better; SQL statements per exposure {wal['redis'][1]:.2f} (writer, batches of 500) vs "
            f"{wal['sync'][1]:.2f}; half new participants, half returning; after a CHECKPOINT",
            higher_is_better=False,
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
