"""Analytics reads go to the read replica when one is configured; everything else to the primary."""

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from experiments import services as experiments
from focusedroom.db import ReplicaRouter, analytics_alias
from focusedroom.embedded_db import database_url_for

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import django
django.setup()
from django.db import connections
from django.test.utils import CaptureQueriesContext
from experiments.models import Experiment
from experiments.results import experiment_results
experiment = Experiment.objects.get(key="replica-read")
with CaptureQueriesContext(connections["replica"]) as replica, CaptureQueriesContext(connections["default"]) as primary:
    experiment_results(experiment=experiment)
import json
print(json.dumps({"replica": [q["sql"] for q in replica.captured_queries],
                  "primary": [q["sql"] for q in primary.captured_queries]}))
"""


def test_without_a_replica_analytics_read_the_primary():
    assert analytics_alias() == "default"
    router = ReplicaRouter()
    assert router.db_for_write(None) == "default"
    assert router.allow_migrate("replica", "experiments") is False
    assert router.allow_migrate("default", "experiments") is True


@pytest.mark.django_db(transaction=True)
def test_experiment_results_are_computed_on_the_replica():
    experiment = experiments.experiment_create(
        data={"name": "Replica read", "key": "replica-read"},
        variants=[{"name": "control", "weight": Decimal("0.5")}, {"name": "b", "weight": Decimal("0.5")}],
    )
    experiments.experiment_start(experiment=experiment)
    experiments.exposure_record(key="replica-read", anonymous_id="visitor-replica-1")
    url = database_url_for(connection.settings_dict)
    keep = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DJANGO_SETTINGS_MODULE"}}
    env = {**keep, "DJANGO_SETTINGS_MODULE": "focusedroom.settings", "DATABASE_URL": url, "DATABASE_REPLICA_URL": url}
    result = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    queries = json.loads(result.stdout.strip().splitlines()[-1])
    traffic = ("user_experiment_participation", "conversions")
    # Every aggregate over the traffic tables runs on the replica; at most the experiment's
    # small definition (variants) is read from the primary.
    assert any("user_experiment_participation" in sql for sql in queries["replica"])
    assert not [sql for sql in queries["primary"] if any(table in sql for table in traffic)]
