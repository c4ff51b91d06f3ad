from decimal import Decimal

import pytest
from django.core.cache import cache

from experiments import services


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """The cache lives in the database; tests that use it start and end with it empty."""
    if request.node.get_closest_marker("django_db") is None and "db" not in request.fixturenames:
        yield
        return
    if request.node.get_closest_marker("django_db") is None:
        request.getfixturevalue("db")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_experiment(db):
    """``make_experiment(key=..., weights=(0.5, 0.5), start=True, **fields)`` -> Experiment."""

    def make(key="headline-test", weights=("0.5", "0.5"), start=True, **fields):
        variants = [
            {
                "name": "control" if i == 0 else f"variant-{i}",
                "weight": Decimal(w),
                "config_json": {"headline": f"H{i}"},
            }
            for i, w in enumerate(weights)
        ]
        experiment = services.experiment_create(data={"name": f"Test {key}", "key": key, **fields}, variants=variants)
        if start:
            experiment = services.experiment_start(experiment=experiment)
        return experiment

    return make
