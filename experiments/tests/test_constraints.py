"""Every invariant is also a database rule: raw writes that bypass the services are refused."""

from decimal import Decimal

import pgtrigger
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from accounts.tests.factories import CustomerFactory
from experiments.models import Conversion, Experiment, Impression, Participation, Variant


def refused(fn, constraint: str):
    with pytest.raises((IntegrityError, DatabaseError)) as info, transaction.atomic():
        fn()
    diag = getattr(info.value.__cause__, "diag", None)
    assert constraint in (getattr(diag, "constraint_name", None) or "") or constraint in str(info.value)


@pytest.fixture
def running(make_experiment):
    return make_experiment()


def test_participant_is_exactly_one_of_person_or_visitor(running):
    v = running.variants.first()
    user = CustomerFactory()
    refused(
        lambda: Participation.objects.create(experiment=running, variant=v), "participation_exactly_one_participant"
    )
    refused(
        lambda: Participation.objects.create(experiment=running, variant=v, user=user, anonymous_id="abcdefgh1"),
        "participation_exactly_one_participant",
    )
    refused(lambda: Impression.objects.create(experiment=running, variant=v), "impressions_exactly_one_participant")


def test_one_participation_per_participant_and_experiment(running):
    v = running.variants.first()
    user = CustomerFactory()
    Participation.objects.create(experiment=running, variant=v, user=user)
    refused(lambda: Participation.objects.create(experiment=running, variant=v, user=user), "participation_user_unique")
    Participation.objects.create(experiment=running, variant=v, anonymous_id="visitor-001")
    refused(
        lambda: Participation.objects.create(experiment=running, variant=v, anonymous_id="visitor-001"),
        "participation_anonymous_unique",
    )


def test_seed_checks(running):
    v = running.variants.first()
    p = Participation.objects.create(experiment=running, variant=v, anonymous_id="visitor-002")
    refused(
        lambda: Participation.objects.filter(pk=p.pk).update(
            first_conversion_date=p.first_exposure_date.replace(year=2000)
        ),
        "participation_conversion_after_exposure",
    )
    refused(
        lambda: Impression.objects.create(
            experiment=running, variant=v, anonymous_id="visitor-002", scroll_depth_percent=101
        ),
        "impressions_scroll_depth_percent_check",
    )
    refused(
        lambda: Impression.objects.create(
            experiment=running, variant=v, anonymous_id="visitor-002", device_type="fridge"
        ),
        "impressions_device_type_enum",
    )
    refused(
        lambda: Conversion.objects.create(
            experiment=running,
            variant=v,
            participation=p,
            anonymous_id="visitor-002",
            conversion_type="x",
            conversion_value=Decimal("-1"),
        ),
        "conversions_conversion_value_check",
    )
    refused(
        lambda: Experiment.objects.filter(pk=running.pk).update(confidence_level=Decimal("0.5")), "confidence_level"
    )
    refused(lambda: Experiment.objects.filter(pk=running.pk).update(status="finished"), "experiments_status_enum")
    refused(
        lambda: Experiment.objects.filter(pk=running.pk).update(coverage=Decimal("1.5")), "experiments_coverage_0_1"
    )


def test_seed_defaults_are_database_defaults(running):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO experiments (id, name, key, seed, coverage, eligibility_rules, conversion_window_days, created_at)"
            " VALUES (gen_random_uuid(), 'raw', 'raw', '', 1, '{}', 30, now()) RETURNING status, confidence_level,"
            " minimum_detectable_effect, is_active"
        )
        assert cursor.fetchone() == ("draft", Decimal("0.95"), Decimal("0.0500"), True)


def test_running_variants_are_frozen_in_the_database(running):
    v = running.variants.get(is_control=False)
    refused(lambda: Variant.objects.filter(pk=v.pk).update(weight=Decimal("0.9")), "variants_frozen_unless_draft")
    refused(
        lambda: Variant.objects.create(experiment=running, name="late", weight=0, position=9),
        "variants_frozen_unless_draft",
    )
    refused(lambda: Variant.objects.filter(pk=v.pk).delete(), "variants_frozen_unless_draft")
    Variant.objects.filter(pk=v.pk).update(description="notes may change")  # allowed


def test_start_requirements_in_the_database(make_experiment):
    draft = make_experiment(key="one-arm", weights=("1",), start=False)
    refused(
        lambda: Experiment.objects.filter(pk=draft.pk).update(status="running", started_at=draft.created_at),
        "experiments_start_requirements",
    )
    uneven = make_experiment(key="uneven", weights=("0.5", "0.4"), start=False)
    refused(
        lambda: Experiment.objects.filter(pk=uneven.pk).update(status="running", started_at=uneven.created_at),
        "experiments_start_requirements",
    )


def test_one_control_per_experiment(make_experiment):
    draft = make_experiment(key="two-controls", start=False)
    refused(
        lambda: Variant.objects.filter(experiment=draft).update(is_control=True), "variants_one_control_per_experiment"
    )


LIFECYCLE_TRIGGERS = (
    "experiments.Experiment:experiments_start_requirements",
    "experiments.Variant:variants_frozen_unless_draft",
)


@pytest.mark.django_db
def test_lifecycle_triggers_are_installed_by_pgtrigger_and_the_hand_written_ones_are_gone():
    for model, trigger in pgtrigger.registered(*LIFECYCLE_TRIGGERS):
        assert trigger.get_installation_status(model) == ("INSTALLED", True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
            " WHERE tgrelid IN ('experiments'::regclass, 'variants'::regclass) AND NOT tgisinternal ORDER BY 1"
        )
        installed = cursor.fetchall()
        cursor.execute(
            "SELECT proname FROM pg_proc WHERE proname IN ('experiments_check_start', 'experiments_variants_frozen')"
        )
        assert cursor.fetchall() == []  # migration 0004 dropped the hand-written functions
    assert [table for table, _ in installed] == ["experiments", "variants"]
    assert all(name.startswith("pgtrigger_") for _, name in installed)


def test_pgtrigger_triggers_refuse_raw_sql(running, make_experiment):
    v = running.variants.get(is_control=False)

    def raw(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    refused(lambda: raw("UPDATE variants SET weight = 0.9 WHERE id = %s", [v.pk]), "variants_frozen_unless_draft")
    refused(lambda: raw("DELETE FROM variants WHERE id = %s", [v.pk]), "variants_frozen_unless_draft")
    raw("UPDATE variants SET description = 'allowed' WHERE id = %s", [v.pk])
    draft = make_experiment(key="raw-one-arm", weights=("1",), start=False)
    refused(
        lambda: raw("UPDATE experiments SET status = 'running', started_at = now() WHERE id = %s", [draft.pk]),
        "experiments_start_requirements",
    )
    raw("UPDATE experiments SET status = 'archived' WHERE id = %s", [draft.pk])  # only draft -> running is checked
