from decimal import Decimal

import pytest
from django.core.cache import cache

from experiments import services


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """The cache lives in the database (a table transactional flushes leave alone): database
    tests start and end with it empty. The root ``_reference_data`` fixture has opened the database."""
    uses_db = request.node.get_closest_marker("django_db") is not None or "db" in request.fixturenames
    if uses_db:
        cache.clear()
    yield
    if uses_db:
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
