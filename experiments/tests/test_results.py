"""Results: one module computes them, selectors read them, and one sample-ratio rule serves every screen."""

import json
from io import StringIO
from pathlib import Path

import grimp
import pytest
from django.core.management import call_command
from django.test import Client

from experiments import stats
from experiments.models import Participation
from experiments.selectors import experiment_results, running_experiments_overview


def test_results_and_selectors_do_not_import_each_other_and_stats_is_pure():
    graph = grimp.build_graph("experiments", cache_dir=None)
    assert graph.find_shortest_chain(importer="experiments.results", imported="experiments.selectors") is None
    assert graph.find_shortest_chain(importer="experiments.selectors", imported="experiments.results")
    assert graph.find_modules_directly_imported_by("experiments.stats") == set()
    source = (Path(stats.__file__)).read_text()
    assert "django" not in source.split('"""', 2)[2]  # no Django import below the docstring


@pytest.fixture
def lopsided(make_experiment):
    """A running 50/50 test whose traffic came in 300/150: a sample-ratio mismatch."""
    experiment = make_experiment(key="lopsided")
    control, challenger = experiment.variants.order_by("position")
    Participation.objects.bulk_create(
        [Participation(experiment=experiment, variant=control, anonymous_id=f"lop-a-{i:04d}") for i in range(300)]
        + [Participation(experiment=experiment, variant=challenger, anonymous_id=f"lop-b-{i:04d}") for i in range(150)]
    )
    return experiment


def _report_json(key: str) -> dict:
    out = StringIO()
    call_command("experiment_report", key, "--json", stdout=out)
    return json.loads(out.getvalue())


def _console(staff_with_perms) -> Client:
    client = Client()
    client.force_login(staff_with_perms("experiments.view_experiment"))
    return client


def test_every_screen_reports_the_same_mismatch(lopsided, staff_with_perms, staff_client):
    results = experiment_results(experiment=lopsided)
    assert results["srm"]["mismatch"] and results["srm"]["checked"]
    assert [w["code"] for w in results["warnings"]][0] == "srm"
    [row] = running_experiments_overview()
    assert row["srm_warning"] and row["srm_p_value"] == results["srm"]["p_value"]
    api = staff_client("experiments.view_experiment").get(f"/api/v1/experiments/{lopsided.key}/results/").json()
    assert api["srm"] == results["srm"]
    assert _report_json(lopsided.key)["srm"] == results["srm"]
    page = _console(staff_with_perms).get(f"/admin/experiments/experiment/{lopsided.pk}/results/")
    assert b"Sample ratio mismatch" in page.content


def test_the_rule_is_one_function(lopsided, staff_with_perms, staff_client, monkeypatch):
    """Change the rule in ``stats.sample_ratio_check`` and every screen follows."""
    calls = []

    def never_a_mismatch(participants, weights):
        calls.append(list(participants))
        return stats.SampleRatio(p_value=0.5, checked=True, mismatch=False)

    monkeypatch.setattr(stats, "sample_ratio_check", never_a_mismatch)
    expected = {"p_value": 0.5, "checked": True, "mismatch": False}
    assert experiment_results(experiment=lopsided)["srm"] == expected
    [row] = running_experiments_overview()
    assert (row["srm_p_value"], row["srm_warning"]) == (0.5, False)
    api = staff_client("experiments.view_experiment").get(f"/api/v1/experiments/{lopsided.key}/results/").json()
    assert api["srm"] == expected and not any(w["code"] == "srm" for w in api["warnings"])
    assert _report_json(lopsided.key)["srm"] == expected
    page = _console(staff_with_perms).get(f"/admin/experiments/experiment/{lopsided.pk}/results/")
    assert b"Sample ratio mismatch" not in page.content
    assert calls and all(c == [300, 150] for c in calls)
