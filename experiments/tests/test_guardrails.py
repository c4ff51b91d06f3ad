"""Guardrail metrics: outcomes a variant must not harm, from FocusedRoom's own data, in the same results."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import services as accounts_services
from accounts.tests.factories import CustomerFactory
from experiments.models import Conversion, Experiment, Participation
from experiments.selectors import experiment_results
from focusedroom import registries


@pytest.fixture
def unsubscribing(make_experiment):
    """300 people per arm exposed two days ago; the challenger makes many more of them unsubscribe."""
    experiment = make_experiment(key="guardrail-test", guardrail_threshold=Decimal("0.05"))
    exposed = timezone.now() - timedelta(days=2)
    Experiment.objects.filter(pk=experiment.pk).update(started_at=exposed - timedelta(hours=1))
    experiment.refresh_from_db()
    control, challenger = experiment.variants.order_by("position")
    people = CustomerFactory.create_batch(600, marketing_opt_in=True)
    participations = [
        Participation(
            experiment=experiment, variant=control if i < 300 else challenger, user=p, first_exposure_date=exposed
        )
        for i, p in enumerate(people)
    ]
    Participation.objects.bulk_create(participations)
    Conversion.objects.bulk_create(
        Conversion(
            participation=p,
            variant=p.variant,
            experiment=experiment,
            user=p.user,
            conversion_type="signup",
            created_at=exposed + timedelta(hours=1),
            conversion_within_window=True,
            conversion_eligibility_verified=True,
        )
        for i, p in enumerate(participations)
        if i % 5 == 0
    )
    for i, person in enumerate(people):
        unsubscribes = i % 5 == 0 if i < 300 else i % 2 == 0  # 20 % of the control, 50 % of the challenger
        if unsubscribes:
            accounts_services.person_withdraw_marketing_consent(user=person, source="link")
        if (i % 10 == 0) if i < 300 else (i % 6 == 0):  # bounces: 10 % and 16.7 %, not shown to differ
            accounts_services.person_record_email_problem(user=person, problem="bounced")
    return experiment, people


def guardrail(results, name):
    return next(g for g in results["guardrails"] if g["name"] == name)


def test_a_variant_that_harms_a_guardrail_is_flagged_and_not_shipped(unsubscribing):
    experiment, _ = unsubscribing
    results = experiment_results(experiment=experiment)
    unsubscribes = guardrail(results, "unsubscribes")
    control, challenger = unsubscribes["variants"]
    assert (unsubscribes["kind"], unsubscribes["harm"], unsubscribes["threshold"]) == ("proportion", "increase", 0.05)
    assert control["mean"] == pytest.approx(0.2) and challenger["mean"] == pytest.approx(0.5)
    assert challenger["status"] == "harm" and challenger["method"] == "sequential"
    assert "harms unsubscribes" in challenger["message"]
    bounces = guardrail(results, "email_bounces")
    assert [v["mean"] for v in bounces["variants"]] == [pytest.approx(30 / 300), pytest.approx(50 / 300)]
    assert bounces["variants"][1]["status"] == "watch"  # +67 %, beyond 5 %, but not shown yet
    # The conversion metric's verdict names the guardrail: keep the control.
    verdict = results["metrics"][0]["variants"][1]
    assert (verdict["decision"], verdict["reason"]) == ("keep_control", "guardrail")
    assert "harms Unsubscribes" in verdict["verdict"]
    assert any(w["code"] == "guardrail" for w in results["warnings"])


def test_only_events_between_the_first_exposure_and_the_window_count(unsubscribing):
    experiment, people = unsubscribing
    # Move every exposure after the unsubscribes: they happened before exposure and no longer count.
    Participation.objects.filter(experiment=experiment).update(
        first_exposure_date=timezone.now() + timedelta(minutes=1)
    )
    results = experiment_results(experiment=experiment)
    assert [v["mean"] for v in guardrail(results, "unsubscribes")["variants"]] == [0, 0]
    # And events after the conversion window do not count either.
    Participation.objects.filter(experiment=experiment).update(first_exposure_date=timezone.now() - timedelta(days=40))
    Experiment.objects.filter(pk=experiment.pk).update(started_at=timezone.now() - timedelta(days=41))
    experiment.refresh_from_db()
    results = experiment_results(experiment=experiment)
    assert [v["mean"] for v in guardrail(results, "unsubscribes")["variants"]] == [0, 0]


def test_the_threshold_is_the_experiments(unsubscribing):
    experiment, _ = unsubscribing
    Experiment.objects.filter(pk=experiment.pk).update(guardrail_threshold=Decimal("1"))  # only +100 % counts
    experiment.refresh_from_db()
    results = experiment_results(experiment=experiment)
    challenger = guardrail(results, "unsubscribes")["variants"][1]
    assert challenger["uplift"] == pytest.approx(1.5) and challenger["status"] == "harm"  # +150 %: beyond 100 %
    bounces = guardrail(results, "email_bounces")["variants"][1]
    assert bounces["uplift"] == pytest.approx(2 / 3) and bounces["status"] == "ok"  # +67 %: within 100 %


def test_guardrail_metrics_are_registered_with_a_direction():
    names = set(registries.guardrail_metrics.names())
    assert {"unsubscribes", "email_bounces", "gems_earned", "gems_redeemed"} <= names
    with pytest.raises(ValueError, match="harm is decrease"):
        registries.register_guardrail_metric(registries.GuardrailMetric(name="x", label="X", sql="", harm="up"))
