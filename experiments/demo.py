"""Demo data: a running headline test on the Big Five landing page with enough traffic for results."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from experiments import services
from experiments.models import (
    Conversion,
    ConversionAttribution,
    Experiment,
    ExperimentStatus,
    Impression,
    Participation,
)
from experiments.selectors import definition_build

KEY = "bigfive-headline"
VARIANTS = [
    {
        "name": "control",
        "weight": Decimal("0.5"),
        "is_control": True,
        "config_json": {"headline": "Discover your personality with the free Big Five test"},
    },
    {
        "name": "outcome-headline",
        "weight": Decimal("0.5"),
        "config_json": {"headline": "Find the career that fits your personality — in about {minutes} minutes"},
    },
]
RATES = {"control": 0.12, "outcome-headline": 0.145}
DEVICES = ["desktop", "mobile", "mobile", "tablet"]


@transaction.atomic
def seed(*, scale: int) -> str:
    from focusedroom.partitions import partitions_ensure

    # The months of the demo's impressions (up to BULK_DAYS back) must exist.
    partitions_ensure(table="impressions", start=timezone.now() - timedelta(days=BULK_DAYS + 1), end=timezone.now())
    experiment = Experiment.objects.filter(key=KEY).first()
    if experiment is None:
        experiment = services.experiment_create(
            data={
                "name": "Big Five landing headline",
                "key": KEY,
                "description": "Does an outcome-focused headline get more visitors to complete the Big Five test?",
                "target_sample_size": 10_000,
                "minimum_detectable_effect": Decimal("0.10"),
            },
            variants=VARIANTS,
        )
    if experiment.status == ExperimentStatus.DRAFT:
        experiment = services.experiment_start(experiment=experiment)
    from focusedroom.bulk import bulk_enabled

    if bulk_enabled(scale):
        return seed_bulk(experiment=experiment, scale=scale)
    if Participation.objects.filter(experiment=experiment).exists():
        return f"experiment '{KEY}' already has traffic"

    rng = random.Random(4)
    definition = definition_build(experiment)
    variants = {v.name: v for v in experiment.variants.all()}
    visitors = max(scale * 100, 6000)
    now = timezone.now()
    start = now - timedelta(days=14)
    Experiment.objects.filter(pk=experiment.pk).update(started_at=start)
    participations, impressions, conversions, attributions = [], [], [], []
    for i in range(visitors):
        anonymous_id = f"demo-visitor-{i:06d}"
        chosen, _, _ = services.assign(definition=definition, participant_key=anonymous_id, attributes={})
        variant = variants[chosen["name"]]
        exposed_at = start + timedelta(seconds=rng.randint(0, 13 * 86400))
        views = rng.choice([1, 1, 1, 2, 2, 3])
        device = rng.choice(DEVICES)
        p = Participation(
            anonymous_id=anonymous_id,
            experiment=experiment,
            variant=variant,
            first_exposure_date=exposed_at,
            total_impressions=views,
            eligibility_criteria={"reason": "assigned"},
        )
        for n in range(views):
            impressions.append(
                Impression(
                    anonymous_id=anonymous_id,
                    experiment=experiment,
                    variant=variant,
                    impression_at=exposed_at + timedelta(hours=n * 5),
                    page_url="/big-five/",
                    device_type=device,
                    is_first_exposure=n == 0,
                    scroll_depth_percent=rng.randint(10, 100),
                )
            )
        if rng.random() < RATES[variant.name]:
            converted_at = exposed_at + timedelta(minutes=rng.randint(8, 600))
            p.has_converted, p.first_conversion_date, p.conversion_within_window = True, converted_at, True
            c = Conversion(
                anonymous_id=anonymous_id,
                participation=p,
                variant=variant,
                experiment=experiment,
                conversion_type="big_five_completed",
                created_at=converted_at,
                device_type=device,
                time_to_convert=int((converted_at - exposed_at).total_seconds()),
                original_exposure_date=exposed_at,
                conversion_within_window=True,
                conversion_eligibility_verified=True,
                conversion_attribution_source="built_in",
            )
            conversions.append(c)
            attributions.append(
                ConversionAttribution(
                    anonymous_id=anonymous_id,
                    conversion=c,
                    experiment=experiment,
                    variant=variant,
                    time_to_conversion_hours=c.time_to_convert // 3600,
                )
            )
        participations.append(p)
    Participation.objects.bulk_create(participations, batch_size=2000)
    Impression.objects.bulk_create(impressions, batch_size=5000)
    Conversion.objects.bulk_create(conversions, batch_size=2000)
    ConversionAttribution.objects.bulk_create(attributions, batch_size=2000)
    return (
        f"running experiment '{KEY}': {len(participations)} visitors, {len(impressions)} impressions, "
        f"{len(conversions)} Big Five completions"
    )


# ------------------------------------------------------------------ bulk (large scales)

BULK_DAYS = 180  # at large scales the headline test has run for six months

# Every demo customer who joined while the test ran saw the landing page twenty minutes
# before signing up; half as many anonymous visitors as customers never signed up. The
# variant and the conversion come from a hash of the participant (control converts at
# 12%, the outcome headline at 14.5%), the views from 1 to 3. One statement writes the
# participations, impressions, conversions and attributions, each participant once.
BULK_TRAFFIC_SQL = """
WITH src AS (
    SELECT u.id AS user_id, '' AS anonymous_id, u.created_at - interval '20 minutes' AS exposed_at,
           (hashtext('headline-' || u.id) & 2147483647) AS h
    FROM accounts_user u
    WHERE u.email LIKE 'demo.customer%%' AND NOT u.is_staff AND u.created_at >= %(start)s + interval '20 minutes'
      AND NOT EXISTS (
          SELECT 1 FROM user_experiment_participation p WHERE p.experiment_id = %(experiment)s AND p.user_id = u.id
      )
    UNION ALL
    SELECT NULL, 'demo-visitor-'
              || CASE WHEN g < 1000000 THEN lpad(g::text, 6, '0') ELSE g::text END,
           %(start)s + make_interval(secs => (hashtext('visitor-' || g) & 2147483647) %% (%(days)s * 86400 - 3600)),
           (hashtext('visitor-' || g) & 2147483647)
    FROM generate_series(1, %(visitors)s) AS g
    WHERE NOT EXISTS (
        SELECT 1 FROM user_experiment_participation p
        WHERE p.experiment_id = %(experiment)s AND p.anonymous_id = 'demo-visitor-'
              || CASE WHEN g < 1000000 THEN lpad(g::text, 6, '0') ELSE g::text END
    )
),
chosen AS (
    SELECT s.*, v.id AS variant_id, 1 + (s.h / 7) %% 3 AS views,
           (s.h / 13) %% 1000 < CASE WHEN v.is_control THEN 120 ELSE 145 END AS converts,
           make_interval(mins => 8 + (s.h / 19) %% 592) AS delay
    FROM src s JOIN variants v ON v.experiment_id = %(experiment)s AND v.is_control = (s.h %% 2 = 0)
),
p AS (
    INSERT INTO user_experiment_participation (
        id, user_id, anonymous_id, experiment_id, variant_id, first_exposure_date, eligibility_criteria,
        total_impressions, has_converted, first_conversion_date, conversion_within_window, created_at, updated_at
    )
    SELECT gen_random_uuid(), user_id, anonymous_id, %(experiment)s, variant_id, exposed_at,
           '{"reason": "assigned"}'::jsonb, views, converts, CASE WHEN converts THEN exposed_at + delay END,
           converts, exposed_at, exposed_at
    FROM chosen
    RETURNING id, user_id, anonymous_id, variant_id, first_exposure_date, total_impressions, first_conversion_date
),
device AS (
    SELECT p.*, (ARRAY['desktop', 'mobile', 'mobile', 'tablet'])[1 + (hashtext(p.id::text) & 2147483647) %% 4] AS device
    FROM p
),
imp AS (
    INSERT INTO impressions (
        id, user_id, anonymous_id, variant_id, experiment_id, impression_at, page_url, device_type,
        is_first_exposure, scroll_depth_percent
    )
    SELECT gen_random_uuid(), p.user_id, p.anonymous_id, p.variant_id, %(experiment)s,
           p.first_exposure_date + make_interval(hours => 5 * n), '/big-five/', p.device, n = 0,
           10 + (hashtext(p.id::text) & 2147483647) %% 91
    FROM device p CROSS JOIN LATERAL generate_series(0, p.total_impressions - 1) AS n
    RETURNING 1
),
conv AS (
    INSERT INTO conversions (
        id, user_id, anonymous_id, participation_id, variant_id, experiment_id, conversion_type, created_at,
        device_type, time_to_convert, original_exposure_date, conversion_within_window,
        conversion_eligibility_verified, conversion_attribution_source
    )
    SELECT gen_random_uuid(), p.user_id, p.anonymous_id, p.id, p.variant_id, %(experiment)s, 'big_five_completed',
           p.first_conversion_date, p.device,
           extract(epoch FROM p.first_conversion_date - p.first_exposure_date)::int, p.first_exposure_date, true,
           true, 'built_in'
    FROM device p WHERE p.first_conversion_date IS NOT NULL
    RETURNING id, user_id, anonymous_id, variant_id, time_to_convert
),
attr AS (
    INSERT INTO conversion_attribution (
        id, user_id, anonymous_id, conversion_id, experiment_id, variant_id, time_to_conversion_hours
    )
    SELECT gen_random_uuid(), user_id, anonymous_id, id, %(experiment)s, variant_id, time_to_convert / 3600
    FROM conv
    RETURNING 1
)
SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM imp), (SELECT count(*) FROM conv), (SELECT count(*) FROM attr)
"""


def seed_bulk(*, experiment: Experiment, scale: int) -> str:
    from focusedroom.bulk import bulk_fetchone, bulk_session

    bulk_session()
    start = timezone.now() - timedelta(days=BULK_DAYS)
    if experiment.started_at is None or experiment.started_at > start:
        Experiment.objects.filter(pk=experiment.pk).update(started_at=start)
    else:
        start = experiment.started_at
    params = {"experiment": experiment.pk, "start": start, "days": BULK_DAYS, "visitors": scale // 2}
    participations, impressions, conversions, _ = bulk_fetchone(BULK_TRAFFIC_SQL, params)
    return (
        f"running experiment '{KEY}': {participations} participants, {impressions} impressions, "
        f"{conversions} Big Five completions created (bulk SQL)"
    )
