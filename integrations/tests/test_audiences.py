"""Audiences: trait ranges and demographics against hand-counted fixtures, consent, sync diffs."""

from __future__ import annotations

import pytest

from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement import services as engagement_services
from engagement.models import QuizResult
from integrations import selectors, services
from integrations.models import AudienceMember, AudienceSnapshot, AudienceSync, OutboxMessage
from integrations.outbox import OutboxWorker
from integrations.tests import fixtures as integration_fixtures
from profiles.tests.factories import make_profile

pytestmark = pytest.mark.django_db

# Shared fixtures (pytest finds fixtures by name in the module).
cio = integration_fixtures.cio
kit = integration_fixtures.kit
default_brand = integration_fixtures.default_brand

TRAITS = "OCEAN"


def take_test(person, *, o=50, c=50, e=50, a=50, n=50, sex="F", report_id=None):
    report_id = report_id or (QuizResult.objects.filter(customer=person).count() + 1)
    values = dict(zip(TRAITS, (o, c, e, a, n), strict=True))
    return QuizResult.objects.create(
        customer=person,
        report_id=report_id,
        scores={"percentiles": values},
        result_type="big_five",
        questions_and_answers={},
        sex=sex,
    )


def customer(*, opt_in=True, age=30, country="US", verified=True, **kwargs):
    return CustomerFactory(marketing_opt_in=opt_in, age=age, country_code=country, is_email_verified=verified, **kwargs)


def refresh():
    engagement_services.big_five_latest_refresh(concurrently=False)


def ids(qs):
    return set(qs.values_list("pk", flat=True))


@pytest.fixture
def people():
    """Eight people, counted by hand below (O, C percentiles; consent; age; country)."""
    p = {
        "ann": customer(age=30),  # O 80, C 30: in
        "bob": customer(age=40),  # O 70, C 40: in (both bounds inclusive)
        "cat": customer(age=35),  # O 69: out (openness)
        "dan": customer(age=28),  # C 41: out (conscientiousness)
        "eve": customer(age=33, opt_in=False),  # matches, no consent: out
        "fay": customer(age=50),  # O 90, C 10 but age 50: out (age)
        "gus": customer(age=31, country="FR"),  # matches, France: out (country)
        "hal": customer(age=29),  # no result: out when traits are set
    }
    take_test(p["ann"], o=80, c=30)
    take_test(p["bob"], o=20, c=90)  # an older result that would not match…
    take_test(p["bob"], o=70, c=40)  # …his latest one does
    take_test(p["cat"], o=69, c=20)
    take_test(p["dan"], o=90, c=41)
    take_test(p["eve"], o=95, c=5)
    take_test(p["fay"], o=90, c=10)
    take_test(p["gus"], o=75, c=35)
    staff = StaffFactory(marketing_opt_in=True, age=30, country_code="US")
    take_test(staff, o=80, c=30)  # staff are not customers
    refresh()
    return p


def trait_profile(**extra):
    data = {
        "demographics": {"ageRange": {"min": 25, "max": 45}, "location": {"countries": ["US"]}},
        "openness_min": 70,
        "conscientiousness_max": 40,
        **extra,
    }
    return make_profile(**data)


def test_trait_ranges_and_demographics_match_the_hand_count(people):
    profile = trait_profile()
    assert ids(selectors.audience_people(profile=profile)) == {people["ann"].pk, people["bob"].pk}
    report = selectors.audience_report(profile=profile)
    assert report["size"] == 2
    assert report["criteria"]["traits"] == {"O": {"min": 70, "max": None}, "C": {"min": None, "max": 40}}
    assert "interests" in report["criteria"]["not_applied"]  # the factory's interests cannot narrow customers
    bins = {code: [b["count"] for b in t["bins"]] for code, t in report["composition"]["traits"].items()}
    assert bins["O"][7] == 1 and bins["O"][8] == 1 and sum(bins["O"]) == 2  # 70–79 (bob), 80–89 (ann)
    assert bins["C"][3] == 1 and bins["C"][4] == 1  # 30–39 (ann), 40–49 (bob)
    bands = {b["label"]: b["count"] for b in report["composition"]["age_band"]}
    assert bands["25–34"] == 1 and bands["35–44"] == 1 and sum(bands.values()) == 2
    assert report["composition"]["channel"] == [
        {"key": 1, "label": report["composition"]["channel"][0]["label"], "count": 2}
    ]


def test_without_trait_ranges_everyone_consented_matching_the_demographics(people):
    profile = make_profile(demographics={"ageRange": {"min": 25, "max": 45}}, interests=[])
    # ann bob cat dan gus hal (eve: no consent; fay: 50; staff: not a customer)
    expected = {people[k].pk for k in ("ann", "bob", "cat", "dan", "gus", "hal")}
    assert ids(selectors.audience_people(profile=profile)) == expected
    report = selectors.audience_report(profile=profile)
    assert report["size"] == 6
    assert report["composition"]["traits"]["O"]["without_result"] == 1  # hal
    assert report["criteria"]["not_applied"] == []


def test_gender_uses_the_sex_of_the_latest_result(people):
    QuizResult.objects.filter(customer=people["ann"]).update(sex="M")
    refresh()
    profile = trait_profile(demographics={"gender": "male"})
    assert ids(selectors.audience_people(profile=profile)) == {people["ann"].pk}


def test_consent_rule_is_the_same_in_python_and_sql(people):
    from accounts.models import User

    everyone = User.all_objects.all()
    in_sql = ids(everyone.filter(services.marketing_consent_q()))
    in_python = {u.pk for u in everyone if services.may_receive_marketing(u)}
    assert in_sql == in_python and people["eve"].pk not in in_sql
    assert ids(everyone.filter(services.kit_consent_q())) == {u.pk for u in everyone if services.may_join_kit(u)}


def test_trait_range_is_validated_and_constrained():
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    with pytest.raises(ValidationError) as caught:
        make_profile(openness_min=80, openness_max=20)
    assert "openness_max" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        make_profile(neuroticism_max=101)
    assert "neuroticism_max" in caught.value.message_dict
    profile = make_profile(openness_min=10, openness_max=20)
    from profiles.models import TargetCustomerProfile

    for values in ({"openness_min": 30}, {"openness_max": 101}):
        with pytest.raises(IntegrityError), transaction.atomic():
            TargetCustomerProfile.objects.filter(pk=profile.pk).update(**values)


def test_the_view_keeps_the_latest_result_only(people):
    from engagement.selectors import big_five_latest

    row = big_five_latest().get(customer=people["bob"])
    assert (row.report_id, row.openness, row.conscientiousness) == (2, 70, 40)
    hal = big_five_latest().get(customer=people["hal"])  # no result: a row with empty traits
    assert (hal.report_id, hal.openness, hal.age, hal.marketing_opt_in) == (None, None, 29, True)
    assert not big_five_latest().filter(customer__is_staff=True).exists()  # customers only


# ------------------------------------------------------------------------------ the sync


def audience_rows(**filters):
    return OutboxMessage.objects.filter(event_name__startswith="audience_", **filters)


def test_sync_sends_who_entered_then_only_the_differences(people, cio, kit):
    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=True)
    key = AudienceSync.objects.get(profile=profile).key
    result = services.audience_sync(profile=profile)
    assert (result.entered_customerio, result.entered_kit, result.left) == (2, 2, 0)
    assert audience_rows(event_name="audience_entered").count() == 4
    OutboxWorker(batch_size=100, lease_seconds=30).process_batch()
    assert cio.customers[str(people["ann"].pk)][key] is True
    assert kit.tagged[key] == {people["ann"].email, people["bob"].email}
    # Nothing changed: nothing is sent again.
    before = audience_rows().count()
    result = services.audience_sync(profile=profile)
    assert (result.entered, result.left) == (0, 0)
    assert audience_rows().count() == before
    # cat's new result enters her; bob's new one takes him out.
    take_test(people["cat"], o=99, c=1)
    take_test(people["bob"], o=10, c=10)
    refresh()
    synced = services.audience_sync(profile=profile)
    assert (synced.entered_customerio, synced.left_customerio, synced.entered_kit, synced.left_kit) == (1, 1, 1, 1)
    OutboxWorker(batch_size=100, lease_seconds=30).process_batch()
    assert cio.customers[str(people["cat"].pk)][key] is True
    assert cio.customers[str(people["bob"].pk)][key] is None  # the attribute is removed
    assert kit.tagged[key] == {people["ann"].email, people["cat"].email}
    members = AudienceMember.objects.filter(profile=profile)
    assert set(members.values_list("user_id", flat=True)) == {people["ann"].pk, people["cat"].pk}
    state = selectors.audience_sync_state(profile=profile)
    assert (state["members_customerio"], state["last_entered"], state["last_left"], state["failed_messages"]) == (
        2,
        2,
        2,
        0,
    )


def test_withdrawing_consent_leaves_every_audience_at_once(people, cio, django_capture_on_commit_callbacks):
    from accounts.services import person_withdraw_marketing_consent

    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=False)
    services.audience_sync(profile=profile)
    with django_capture_on_commit_callbacks() as refreshes:
        person_withdraw_marketing_consent(user=people["ann"], source="page")
    assert not AudienceMember.objects.filter(user=people["ann"]).exists()
    # Before the view is refreshed she still counts, but the sync checks consent live: she does not re-enter.
    assert people["ann"].pk in ids(selectors.audience_people(profile=profile))
    assert people["ann"].pk not in ids(selectors.audience_people(profile=profile, live=True))
    left = audience_rows(event_name="audience_left", user=people["ann"])
    assert left.count() == 1 and left.get().is_marketing is False
    assert services.audience_sync(profile=profile).entered == 0
    # The refresh queued by the change (run here at commit) takes her out of the counts too.
    assert len(refreshes) == 1
    refreshes[0]()
    assert people["ann"].pk not in ids(selectors.audience_people(profile=profile))
    assert services.audience_sync(profile=profile).left == 0


def test_erasure_removes_the_memberships(people):
    from accounts.gdpr_services import person_erase, person_export

    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=False)
    services.audience_sync(profile=profile)
    exported = person_export(user=people["ann"])
    assert exported["parts"]["integrations"]["audiences"][0]["profile_id"] == profile.pk
    person_erase(user=people["ann"])
    assert not AudienceMember.objects.filter(user=people["ann"]).exists()
    assert people["ann"].pk not in ids(selectors.audience_people(profile=profile, live=True))
    refresh()  # queued by the erasure (the suite runs it at commit)
    assert people["ann"].pk not in ids(selectors.audience_people(profile=profile))
    # The erased person is not told they left (the providers delete them): no audience message for her.
    assert services.audience_sync(profile=profile).left == 0


def test_snapshots_and_change_since_last_week(people):
    from datetime import timedelta

    from django.utils import timezone

    profile = trait_profile()
    today = timezone.localdate()
    AudienceSnapshot.objects.create(profile=profile, day=today - timedelta(days=8), size=5)
    services.audience_snapshot_record(profile=profile)
    assert AudienceSnapshot.objects.get(profile=profile, day=today).size == 2
    change = selectors.audience_report(profile=profile)["change_since_last_week"]
    assert change == {"since": today - timedelta(days=8), "size_then": 5, "difference": -3}


def test_refresh_job_measures_and_syncs(people, cio):
    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=False)
    counts = services.audiences_refresh()
    assert counts["profiles"] >= 1 and counts["synced"] == 1
    assert AudienceMember.objects.filter(profile=profile).count() == 2


# ------------------------------------------------------------------------------ the API


def test_api_answers_the_audience_to_marketing_only(people, staff_client, django_assert_max_num_queries):
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from accounts.roles import sync_roles

    sync_roles()
    profile = trait_profile()
    url = f"/api/v1/customer-profiles/{profile.pk}/audience/"
    marketing = StaffFactory()
    marketing.groups.add(Group.objects.get(name="Marketing"))
    client = APIClient()
    client.force_authenticate(marketing)
    with django_assert_max_num_queries(15):  # constant: auth, throttle, profile, one composition query…
        response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["size"] == 2 and body["criteria"]["traits"]["O"] == {"min": 70, "max": None}
    assert [b["count"] for b in body["composition"]["traits"]["O"]["bins"]][7:9] == [1, 1]
    assert body["change_since_last_week"] is None and body["sync"]["enabled"] is False
    # Unknown or malformed profile: 404.
    assert client.get("/api/v1/customer-profiles/00000000-0000-0000-0000-000000000000/audience/").status_code == 404
    assert client.get("/api/v1/customer-profiles/not-a-uuid/audience/").status_code == 404
    # Staff without the permission (Support), members and strangers: refused.
    support = StaffFactory()
    support.groups.add(Group.objects.get(name="Support"))
    client.force_authenticate(support)
    assert client.get(url).status_code == 403
    client.force_authenticate(people["ann"])
    assert client.get(url).status_code == 403
    assert APIClient().get(url).status_code in (401, 403)
    # Profile permissions alone are not enough.
    assert staff_client("profiles.view_targetcustomerprofile").get(url).status_code == 403


def test_reading_an_audience_writes_nothing(people, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=False)
    with CaptureQueriesContext(connection) as queries:
        selectors.audience_report(profile=profile)
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert not AudienceSnapshot.objects.exists() and not AudienceMember.objects.exists()


# ------------------------------------------------------------------------- the task engine


@pytest.mark.django_db(transaction=True)
def test_the_hourly_job_refreshes_measures_and_syncs(task_queue, cio):
    from procrastinate.contrib.django import app

    from focusedroom import tasks

    periodic = {p.task.name: p for p in app.periodic_registry.periodic_tasks.values()}
    assert periodic["integrations.audiences_refresh"].cron == "17 * * * *"
    person = customer(age=30)
    take_test(person, o=80, c=30)
    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=False)
    tasks.defer("integrations.audiences_refresh", timestamp=0)
    tasks.run_jobs(queues=["audiences"])
    assert AudienceSnapshot.objects.get(profile=profile).size == 1  # the view was refreshed first
    assert AudienceMember.objects.filter(profile=profile, user=person, in_customerio=True).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_syncs_of_one_profile_tell_each_person_once():
    from focusedroom.testing import run_in_parallel

    for i in range(5):
        take_test(customer(age=30 + i), o=75, c=20)
    refresh()
    profile = trait_profile()
    services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=False)
    results, errors = run_in_parallel(3, lambda i: services.audience_sync(profile=profile))
    assert not errors, errors
    assert sorted(r.entered for r in results) == [0, 0, 5]
    assert audience_rows(event_name="audience_entered").count() == 5
    assert AudienceMember.objects.filter(profile=profile).count() == 5


def test_a_large_audience_is_counted_exactly_and_its_composition_sampled(people, monkeypatch):
    from integrations import audiences

    monkeypatch.setattr(audiences, "SAMPLE_ABOVE", 2)
    monkeypatch.setattr(audiences, "SAMPLE_PEOPLE", 1_000_000)  # a 100 % "sample": same numbers, scaled by 1
    monkeypatch.setattr(audiences, "_looks_large", lambda people: True)
    profile = make_profile(demographics={"ageRange": {"min": 25, "max": 45}}, interests=[])
    composition = audiences.audience_composition(profile=profile)
    assert composition["size"] == 6 and composition["sampled"] is True and composition["sample_percent"] == 100.0
    assert sum(b["count"] for b in composition["age_band"]) == 6
    assert composition["traits"]["O"]["without_result"] == 1
