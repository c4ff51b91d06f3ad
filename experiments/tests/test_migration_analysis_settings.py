"""The analysis-settings migration keeps every row: existing experiments keep their fixed-horizon test, and
existing participations get what was known at their first exposure (tested on a database that has rows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("experiments", "0004_lifecycle_triggers_pgtrigger"),
    ("engagement", "0008_quiz_result_anonymous_index"),
    ("accounts", "0005_person_change_log"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _head():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


SCORES = {
    "percentiles": {"N": 61, "E": 12, "O": 88, "A": 50, "C": 7},
    "levels": {"N": "high", "E": "low", "O": "high", "A": "average", "C": "low"},
    "facets": {"percentiles": {"N1": 3}},
}


@pytest.mark.django_db(transaction=True)
def test_existing_experiments_and_participations_are_carried_over():
    old = _migrate(BEFORE)
    try:
        User = old.get_model("accounts", "User")
        QuizResult = old.get_model("engagement", "QuizResult")
        Experiment = old.get_model("experiments", "Experiment")
        Variant = old.get_model("experiments", "Variant")
        Participation = old.get_model("experiments", "Participation")

        now = timezone.now()
        experiment = Experiment.objects.create(key="kept", name="Kept", status="draft")
        control = Variant.objects.create(experiment=experiment, name="control", weight="0.5", is_control=True)
        Variant.objects.create(experiment=experiment, name="b", weight="0.5", position=1)
        person = User.objects.create(email="kept-person@example.com", password="!", channel_id=3)
        exposed = now - timedelta(days=1)
        common = {"experiment": experiment, "variant": control, "first_exposure_date": exposed}
        QuizResult.objects.create(
            customer=person,
            report_id=1,
            scores=SCORES,
            result_type="x",
            questions_and_answers={},
            norm_group="M_21_40",
            created_at=now - timedelta(days=2),
        )
        QuizResult.objects.create(  # after the exposure: not a pre-exposure trait
            scores={**SCORES, "percentiles": {**SCORES["percentiles"], "N": 99}},
            result_type="x",
            questions_and_answers={},
            quiz_metadata={"anonymous_id": "kept-visitor-late"},
            created_at=now,
        )
        QuizResult.objects.create(
            scores=SCORES,
            result_type="x",
            questions_and_answers={},
            quiz_metadata={"anonymous_id": "kept-visitor-early"},
            norm_group="all_all",
            created_at=now - timedelta(days=3),
        )
        member = Participation.objects.create(
            user=person,
            eligibility_criteria={"reason": "assigned", "attributes": {"device_type": "mobile", "channel": 3}},
            **common,
        )
        early = Participation.objects.create(
            anonymous_id="kept-visitor-early",
            eligibility_criteria={"reason": "assigned", "attributes": {"device_type": "fridge", "channel": None}},
            **common,
        )
        late = Participation.objects.create(anonymous_id="kept-visitor-late", eligibility_criteria={}, **common)

        new = _migrate(_head())
        Experiment = new.get_model("experiments", "Experiment")
        Participation = new.get_model("experiments", "Participation")

        kept = Experiment.objects.get(pk=experiment.pk)
        assert kept.sequential_testing is False  # planned as a fixed-horizon test: it stays one
        assert (kept.sequential_tuning, kept.regression_adjustment, kept.pre_exposure_window_days) == (5000, True, 14)
        fresh = Experiment.objects.create(key="fresh", name="Fresh")
        assert Experiment.objects.get(pk=fresh.pk).sequential_testing is True

        member = Participation.objects.get(pk=member.pk)
        assert (member.device_type, member.acquisition_channel) == ("mobile", 3)
        assert member.pre_exposure_traits["percentiles"] == SCORES["percentiles"]
        assert member.pre_exposure_traits["levels"] == SCORES["levels"]
        assert member.pre_exposure_traits["norm_group"] == "M_21_40"
        # What the results group by and adjust with, derived by the database.
        assert member.traits_segment == "M_21_40|high|low|high|average|low"
        assert (member.trait_n, member.trait_e, member.trait_c) == (61, 12, 7)
        early = Participation.objects.get(pk=early.pk)
        assert (early.device_type, early.acquisition_channel) == (None, None)  # an unknown device is not kept
        assert early.pre_exposure_traits["norm_group"] == "all_all"
        assert Participation.objects.get(pk=late.pk).pre_exposure_traits is None
        assert Participation.objects.count() == 3
    finally:
        _migrate(_head())
