"""The experiment definitions live in each process's memory, valid while the shared version holds.

Other traffic can no longer evict them (the database cache culled them first), a change made
anywhere is seen by every process, and a warm exposure path reads one number, not the experiment.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from experiments import selectors, services
from experiments.models import Experiment
from focusedroom import versions
from focusedroom.testing import run_in_parallel


@pytest.fixture(params=["postgres", "redis"])
def store(request, settings):
    if request.param == "redis":
        request.getfixturevalue("with_redis")
    else:
        settings.REDIS_URL = ""
    return request.param


@pytest.mark.django_db
def test_a_warm_definition_costs_one_read_of_the_version_and_survives_the_cache(store, make_experiment):
    make_experiment(key="warm")
    assert selectors.experiment_definition(key="warm")["status"] == "running"
    cache.clear()  # whatever other traffic does to the shared cache
    expected = 0 if store == "redis" else 1  # Redis: a GET, no SQL at all
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert selectors.experiment_definition(key="warm")["key"] == "warm"
    assert len(queries) == expected, [q["sql"] for q in queries.captured_queries]
    if expected:
        assert "focusedroom_shared_version" in queries.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_a_change_through_a_service_is_seen_at_once(store, make_experiment):
    experiment = make_experiment(key="seen")
    assert selectors.experiment_definition(key="seen")["status"] == "running"
    services.experiment_pause(experiment=experiment)
    assert selectors.experiment_definition(key="seen")["status"] == "paused"
    assert [d["key"] for d in selectors.active_definitions()] == []


@pytest.mark.django_db
def test_a_change_from_another_process_is_seen_after_its_bump(store, make_experiment):
    make_experiment(key="elsewhere")
    assert selectors.experiment_definition(key="elsewhere")["coverage"] == 1.0
    # Another process writes the row (no signal here) and bumps the shared version.
    Experiment.objects.filter(key="elsewhere").update(coverage="0.5")
    assert selectors.experiment_definition(key="elsewhere")["coverage"] == 1.0  # not bumped yet: the copy
    versions.bump(selectors.VERSION_NAME)
    assert selectors.experiment_definition(key="elsewhere")["coverage"] == 0.5


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_version_moves_when_the_change_commits(settings, make_experiment):
    settings.REDIS_URL = ""
    experiment = make_experiment(key="committed")
    before = versions.current(selectors.VERSION_NAME)
    from django.db import transaction

    with transaction.atomic():
        services.experiment_pause(experiment=experiment)
        # Another connection still sees the old version until the commit.
        seen, errors = run_in_parallel(1, lambda i: versions.current(selectors.VERSION_NAME))
        assert errors == [] and seen == [before]
    assert versions.current(selectors.VERSION_NAME) > before


@pytest.mark.django_db
def test_a_holdout_change_reaches_the_definitions(store, make_experiment):
    from accounts.selectors import brand_default

    make_experiment(key="held")
    assert selectors.experiment_definition(key="held")["holdout"] is None
    services.holdout_save(brand=brand_default(), share="0.1", seed="hold-seed")
    assert selectors.experiment_definition(key="held")["holdout"] == {"share": 0.1, "seed": "hold-seed"}
