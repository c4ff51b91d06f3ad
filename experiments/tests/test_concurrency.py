"""Parallel exposures of one participant from real database connections: one participation, every impression."""

import pytest

from accounts.tests.factories import CustomerFactory
from experiments import services
from experiments.models import Impression, Participation
from focusedroom.testing import run_in_parallel


@pytest.mark.django_db(transaction=True)
def test_parallel_exposures_of_one_visitor_make_one_participation(make_experiment):
    experiment = make_experiment(key="parallel-anon")
    results, errors = run_in_parallel(
        16, lambda i: services.exposure_record(key="parallel-anon", anonymous_id="parallel-visitor-1")
    )
    assert errors == []
    assert len({r.variant for r in results}) == 1
    p = Participation.objects.get(experiment=experiment)
    assert p.total_impressions == 16
    assert Impression.objects.filter(experiment=experiment).count() == 16
    assert Impression.objects.filter(experiment=experiment, is_first_exposure=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_exposures_and_conversions_of_one_person(make_experiment):
    experiment = make_experiment(key="parallel-user")
    user = CustomerFactory()
    services.exposure_record(key="parallel-user", user=user)
    results, errors = run_in_parallel(
        12,
        lambda i: (
            services.exposure_record(key="parallel-user", user=user)
            if i % 2
            else services.conversion_record(conversion_type="signup", user=user, idempotency_key="same-key")
        ),
    )
    assert errors == []
    p = Participation.objects.get(experiment=experiment)
    assert p.total_impressions == Impression.objects.filter(experiment=experiment).count()
    assert p.total_impressions == 7
    assert p.conversions.count() == 1  # six parallel calls, one idempotency key: counted once
    assert sum(1 for r in results if isinstance(r, list) and r and r[0].duplicate) == 5


@pytest.mark.django_db(transaction=True)
def test_parallel_holdout_saves_of_one_brand_make_one_holdout():
    from accounts.selectors import brand_default
    from experiments.models import Holdout

    brand = brand_default()
    results, errors = run_in_parallel(
        8, lambda i: services.holdout_save(brand=brand, share=f"0.0{i + 1}", seed="parallel-seed")
    )
    assert errors == []
    holdout = Holdout.objects.get(brand=brand)
    assert holdout.seed == "parallel-seed"
    assert str(holdout.share) in {f"0.0{i + 1}00" for i in range(8)}  # the last save wins, whole
