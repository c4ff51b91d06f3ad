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
        "config_json": {"headline": "Find the career that fits your personality — in 10 minutes"},
    },
]
RATES = {"control": 0.12, "outcome-headline": 0.145}
DEVICES = ["desktop", "mobile", "mobile", "tablet"]


@transaction.atomic
def seed(*, scale: int) -> str:
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
