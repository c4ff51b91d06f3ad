"""The loyalty programme's gems are guardrail metrics of every experiment (registered by the shell, since
experiments and rewards never import each other)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import CustomerFactory
from experiments import services as experiment_services
from experiments.models import Participation
from experiments.selectors import experiment_results
from rewards import services as rewards_services
from rewards.models import LedgerEntry


def _experiment():
    experiment = experiment_services.experiment_create(
        data={"name": "Gems guardrail", "key": "gems-guardrail"},
        variants=[{"name": "control", "weight": "0.5"}, {"name": "quiet-dashboard", "weight": "0.5"}],
    )
    return experiment_services.experiment_start(experiment=experiment)


@pytest.mark.django_db
def test_gems_earned_and_redeemed_per_participant_count_after_the_first_exposure():
    experiment = _experiment()
    control, challenger = experiment.variants.order_by("position")
    people = CustomerFactory.create_batch(40)
    exposed = timezone.now() - timedelta(minutes=5)
    Participation.objects.bulk_create(
        Participation(
            experiment=experiment, variant=control if i < 20 else challenger, user=p, first_exposure_date=exposed
        )
        for i, p in enumerate(people)
    )
    credited = {}
    for i, person in enumerate(people):
        rewards_services.member_enrol(user=person)  # the welcome credit: after the exposure, so it counts
        credited[i] = (50 if i < 20 else 10) + 3 * (i % 7)  # the challenger's members earn far fewer gems
        rewards_services.gems_credit(user=person, amount=credited[i], reason="daily_login", idempotency_key=f"t-{i}")
        if i % 2 == 0:
            rewards_services.gems_debit(user=person, amount=20, reason="redemption", idempotency_key=f"r-{i}")
    welcome = LedgerEntry.objects.filter(reason="welcome").values_list("amount", flat=True).first()

    results = experiment_results(experiment=experiment)
    guardrails = {g["name"]: g for g in results["guardrails"]}
    earned = guardrails["gems_earned"]
    assert (earned["kind"], earned["harm"]) == ("mean", "decrease")
    means = [welcome + sum(credited[i] for i in arm) / 20 for arm in (range(20), range(20, 40))]
    assert [v["mean"] for v in earned["variants"]] == pytest.approx(means)
    assert [v["mean"] for v in guardrails["gems_redeemed"]["variants"]] == [10, 10]
    challenger_row = earned["variants"][1]
    assert challenger_row["uplift"] == pytest.approx(means[1] / means[0] - 1)
    assert challenger_row["status"] == "harm"  # fewer gems is the harmful direction, and it is clear here
    assert "harms gems earned" in challenger_row["message"]
    assert guardrails["gems_redeemed"]["variants"][1]["status"] == "ok"  # half of each arm redeemed 20 gems
