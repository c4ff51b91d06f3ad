"""Brand holdouts are never assigned; participations keep what was known at the first exposure only;
the analysis settings follow the house rules (validated once, frozen once results have been seen)."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from accounts.selectors import brand_default
from accounts.tests.factories import BrandFactory, CustomerFactory
from engagement.models import QuizResult
from experiments import hashing, services
from experiments.models import Holdout, Impression, Participation
from experiments.selectors import experiment_definition, holdout_contains, holdout_member
from focusedroom import registries
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict

# ----------------------------------------------------------------------------- holdouts


def test_holdout_members_are_never_assigned_and_nothing_is_recorded(make_experiment):
    experiment = make_experiment(key="holdout-test")
    services.holdout_save(brand=brand_default(), share=Decimal("0.2"))
    held, assigned = [], []
    for i in range(400):
        visitor = f"holdout-visitor-{i:04d}"
        assignment = services.exposure_record(key=experiment.key, anonymous_id=visitor)
        if holdout_contains(anonymous_id=visitor):
            held.append(visitor)
            assert assignment.reason == "holdout" and not assignment.in_experiment and not assignment.recorded
            assert assignment.variant == "control"
        else:
            assigned.append(visitor)
            assert assignment.recorded
    assert 50 < len(held) < 110  # about 20 % of 400
    assert not Participation.objects.filter(anonymous_id__in=held).exists()
    assert not Impression.objects.filter(anonymous_id__in=held).exists()
    assert Participation.objects.filter(anonymous_id__in=assigned).count() == len(assigned)
    # The rule is one function, and sibling apps reach it through the registry.
    assert all(registries.in_holdout(anonymous_id=v) for v in held)
    assert not any(registries.in_holdout(anonymous_id=v) for v in assigned)


def test_a_person_is_held_out_by_their_id_and_raising_the_share_only_adds_people(db):
    brand = brand_default()
    people = CustomerFactory.create_batch(60)
    services.holdout_save(brand=brand, share=Decimal("0.1"), seed="programme-2027")
    small = {p.pk for p in people if holdout_contains(user=p)}
    services.holdout_save(brand=brand, share=Decimal("0.4"))  # same seed
    large = {p.pk for p in people if holdout_contains(user=p, brand=brand)}
    assert small <= large and len(large) > len(small)
    for person in people:
        expected = hashing.gb_hash("programme-2027", str(person.pk), 2) < 0.4
        assert holdout_contains(user=person) is expected
    services.holdout_save(brand=brand, share=Decimal("0.4"), is_active=False)
    assert not any(holdout_contains(user=p) for p in people)
    # Another brand's holdout is its own.
    other = BrandFactory(slug="partner-brand")
    services.holdout_save(brand=other, share=Decimal("0.5"), seed="partner")
    assert any(holdout_contains(user=p, brand=other) for p in people)
    assert not any(holdout_contains(user=p) for p in people)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"share": "0.6"}, "share"),
        ({"share": "-0.1"}, "share"),
        ({"share": "0.12345"}, "share"),
        ({"share": "half"}, "share"),
        ({"share": "0.1", "seed": "  "}, "seed"),
    ],
)
def test_holdout_rules_are_the_services(db, fields, message):
    with pytest.raises(ValidationError) as refused:
        services.holdout_save(brand=brand_default(), **fields)
    assert message in refused.value.message_dict
    assert not Holdout.objects.exists()


def test_the_database_refuses_a_holdout_above_half(db):
    with pytest.raises(IntegrityError, match="experiment_holdouts_share_range"), transaction.atomic():
        Holdout.objects.create(brand=brand_default(), share=Decimal("0.75"))


def test_the_console_saves_a_holdout_through_the_service(db, staff_with_perms):
    client = Client()
    client.force_login(
        staff_with_perms("experiments.add_holdout", "experiments.change_holdout", "experiments.view_holdout")
    )
    brand = brand_default()
    r = client.post(
        "/admin/experiments/holdout/add/", {"brand": brand.pk, "share": "0.75", "seed": "", "is_active": "on"}
    )
    assert r.status_code == 200 and "Must be between 0 and 0.5" in r.content.decode()
    assert not Holdout.objects.exists()
    r = client.post(
        "/admin/experiments/holdout/add/", {"brand": brand.pk, "share": "0.05", "seed": "", "is_active": "on"}
    )
    assert r.status_code == 302
    holdout = Holdout.objects.get()
    assert (holdout.share, holdout.is_active) == (Decimal("0.05"), True) and holdout.seed.startswith("holdout-")


def test_sql_hash_function_is_growthbooks(db):
    """``experiments_hash_v2`` lets analysts query holdout membership in SQL; it is the Python hash."""
    rng = random.Random(4)
    values = ["", "a", "123", "visitor-ÄÖü", "emoji-😀-x", *(str(rng.randint(1, 10**9)) for _ in range(200))]
    seeds = ["holdout-abc", "", "ß-seed"]
    with connection.cursor() as cursor:
        for seed in seeds:
            for value in values:
                cursor.execute("SELECT experiments_hash_v2(%s, %s)", [seed, value])
                assert float(cursor.fetchone()[0]) == hashing.gb_hash(seed, value, 2)
    assert holdout_member(holdout=None, participant_key="x") is False
    assert holdout_member(holdout={"share": 1.0, "seed": "s"}, participant_key="") is False


# ---------------------------------------------------------------- traits at exposure


def big_five(*, customer=None, anonymous_id="", created_at, n=70, report_id=1):
    scores = {
        "percentiles": {"N": n, "E": 40, "O": 55, "A": 20, "C": 90},
        "levels": {"N": "high", "E": "average", "O": "average", "A": "low", "C": "high"},
        "norm_group": {"id": "F_21_40"},
    }
    return QuizResult.objects.create(
        customer=customer,
        report_id=report_id if customer else None,
        scores=scores,
        result_type="high_neuroticism",
        questions_and_answers={},
        quiz_metadata={"anonymous_id": anonymous_id},
        norm_group="F_21_40",
        created_at=created_at,
    )


def test_a_participation_keeps_the_big_five_taken_before_the_first_exposure(make_experiment):
    experiment = make_experiment(key="traits-test")
    person = CustomerFactory(channel_id=2)
    big_five(customer=person, created_at=timezone.now() - timedelta(days=3), n=70)
    visitor_before, visitor_never = "traits-visitor-1", "traits-visitor-2"
    big_five(anonymous_id=visitor_before, created_at=timezone.now() - timedelta(hours=1), n=12)
    services.exposure_record(key=experiment.key, user=person, tracking={"device_type": "tablet"})
    services.exposure_record(key=experiment.key, anonymous_id=visitor_before)
    services.exposure_record(key=experiment.key, anonymous_id=visitor_never)
    # A test taken after the first exposure is not a pre-exposure covariate.
    big_five(anonymous_id=visitor_never, created_at=timezone.now(), n=99)
    services.exposure_record(key=experiment.key, anonymous_id=visitor_never)

    mine = Participation.objects.get(user=person)
    assert mine.pre_exposure_traits["percentiles"] == {"N": 70, "E": 40, "O": 55, "A": 20, "C": 90}
    assert mine.pre_exposure_traits["levels"]["A"] == "low" and mine.pre_exposure_traits["norm_group"] == "F_21_40"
    assert (mine.device_type, mine.acquisition_channel) == ("tablet", 2)
    before = Participation.objects.get(anonymous_id=visitor_before)
    assert before.pre_exposure_traits["percentiles"]["N"] == 12 and before.acquisition_channel is None
    assert Participation.objects.get(anonymous_id=visitor_never).pre_exposure_traits is None


def test_one_batch_of_exposures_gives_each_new_participant_its_own_traits(make_experiment):
    """The exposure writer looks the traits of a whole batch up at once: each participant still gets
    the latest test taken before its own first exposure."""
    experiment = make_experiment(key="traits-batch")
    now = timezone.now()
    ada, bob = CustomerFactory(), CustomerFactory()
    big_five(customer=ada, created_at=now - timedelta(days=9), n=10)
    big_five(customer=ada, created_at=now - timedelta(days=2), n=20, report_id=2)  # her latest before the exposure
    big_five(customer=ada, created_at=now - timedelta(hours=1), n=30, report_id=3)  # after it
    big_five(customer=bob, created_at=now - timedelta(hours=3), n=40)  # before bob's, after ada's
    big_five(anonymous_id="traits-batch-v1", created_at=now - timedelta(days=1), n=50)
    big_five(anonymous_id="traits-batch-v2", created_at=now - timedelta(days=1), n=60)
    definition = experiment_definition(key=experiment.key)
    variant = definition["variants"][0]

    def event(at, *, user=None, anonymous_id=""):
        return {
            "at": at.isoformat(),
            "experiment": definition["id"],
            "user": user,
            "anonymous_id": anonymous_id,
            "channel": None,
            "variant": variant["id"],
            "counted": True,
            "reason": "assigned",
            "attributes": {},
            "tracking": {},
        }

    with transaction.atomic():
        services.exposures_write(
            events=[
                event(now - timedelta(days=1), user=ada.pk),
                event(now - timedelta(hours=2), user=bob.pk),
                event(now - timedelta(hours=4), anonymous_id="traits-batch-v1"),
                event(now - timedelta(days=2), anonymous_id="traits-batch-v2"),  # before its only test
                event(now, anonymous_id="traits-batch-v3"),  # never took it
            ],
            copy=True,
        )
    traits = {
        p.user_id or p.anonymous_id: p.pre_exposure_traits and p.pre_exposure_traits["percentiles"]["N"]
        for p in Participation.objects.filter(experiment=experiment)
    }
    assert traits == {ada.pk: 20, bob.pk: 40, "traits-batch-v1": 50, "traits-batch-v2": None, "traits-batch-v3": None}


def test_stitching_keeps_what_was_known_at_the_earlier_exposure(make_experiment):
    experiment = make_experiment(key="traits-stitch")
    person = CustomerFactory(channel_id=1)
    visitor = "traits-stitch-visitor"
    big_five(anonymous_id=visitor, created_at=timezone.now() - timedelta(days=1), n=33)
    services.exposure_record(key=experiment.key, anonymous_id=visitor, tracking={"device_type": "mobile"})
    services.exposure_record(key=experiment.key, user=person, tracking={"device_type": "desktop"})
    services.identity_stitch(user=person, anonymous_id=visitor)
    merged = Participation.objects.get(user=person)
    assert merged.device_type == "mobile" and merged.pre_exposure_traits["percentiles"]["N"] == 33


# ------------------------------------------------------------------- analysis settings


def test_new_experiments_are_sequential_with_adjustment_by_default(db):
    experiment = services.experiment_create(data={"name": "Defaults"})
    assert experiment.sequential_testing is True and experiment.sequential_tuning == 5000
    assert experiment.regression_adjustment is True and experiment.pre_exposure_window_days == 14
    assert experiment.guardrail_threshold == Decimal("0.05")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"sequential_testing": "yes"}, "sequential_testing"),
        ({"sequential_tuning": 50}, "sequential_tuning"),
        ({"sequential_tuning": 1.5}, "sequential_tuning"),
        ({"regression_adjustment": None}, "regression_adjustment"),
        ({"pre_exposure_window_days": 0}, "pre_exposure_window_days"),
        ({"pre_exposure_window_days": 400}, "pre_exposure_window_days"),
        ({"guardrail_threshold": "0"}, "guardrail_threshold"),
        ({"guardrail_threshold": "1.5"}, "guardrail_threshold"),
    ],
)
def test_analysis_settings_are_validated_by_the_service(db, data, field):
    with pytest.raises(ValidationError) as refused:
        services.experiment_create(data={"name": "Settings", **data})
    assert field in refused.value.message_dict


def test_a_started_experiment_keeps_its_tuning_and_cannot_fall_back_to_a_fixed_horizon(make_experiment):
    experiment = make_experiment(key="frozen-method")
    with pytest.raises(Conflict) as refused:
        services.experiment_update(experiment=experiment, data={"sequential_tuning": 20_000})
    assert "sequential_tuning" in refused.value.fields
    with pytest.raises(Conflict) as refused:
        services.experiment_update(experiment=experiment, data={"sequential_testing": False})
    assert "sequential_testing" in refused.value.fields
    # What stays valid at any time may change: adjustment, its window, the guardrail threshold.
    updated = services.experiment_update(
        experiment=experiment,
        data={"regression_adjustment": False, "pre_exposure_window_days": 30, "guardrail_threshold": "0.1"},
        context=RequestContext.system(source="command"),
    )
    assert (updated.regression_adjustment, updated.pre_exposure_window_days) == (False, 30)
    fixed = make_experiment(key="fixed-later", start=False)
    fixed = services.experiment_update(experiment=fixed, data={"sequential_testing": False})
    started = services.experiment_start(experiment=fixed)
    # Turning sequential testing on stays possible: its p-values are valid whenever one starts reading them.
    assert services.experiment_update(experiment=started, data={"sequential_testing": True}).sequential_testing


def test_the_api_reads_and_writes_the_analysis_settings(staff_client):
    client = staff_client("experiments.add_experiment", "experiments.change_experiment", "experiments.view_experiment")
    r = client.post(
        "/api/v1/experiments/",
        {
            "name": "Fixed pricing test",
            "sequential_testing": False,
            "sequential_tuning": 20000,
            "guardrail_threshold": "0.02",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["sequential_testing"], body["sequential_tuning"], body["guardrail_threshold"]) == (
        False,
        20000,
        "0.0200",
    )
    assert (body["regression_adjustment"], body["pre_exposure_window_days"]) == (True, 14)
    r = client.patch("/api/v1/experiments/fixed-pricing-test/", {"sequential_tuning": 10}, format="json")
    assert r.status_code == 400 and "sequential_tuning" in r.json()["error"]["fields"]
