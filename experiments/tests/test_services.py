"""Lifecycle, assignment, exposures, conversions and identity stitching through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import CustomerFactory, StaffFactory
from experiments import hashing, services
from experiments.models import (
    Conversion,
    ConversionAttribution,
    Experiment,
    ExperimentAuditLog,
    Impression,
    Participation,
)
from experiments.selectors import experiment_results
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, NotFound

VISITOR = "visitor-abc-123"


def test_create_builds_key_from_name_and_first_variant_is_control(db):
    e = services.experiment_create(
        data={"name": "Pricing Page: Annual First!"},
        variants=[{"name": "a", "weight": "0.5"}, {"name": "b", "weight": "0.5", "config_json": {"x": 1}}],
    )
    assert e.key == "pricing-page-annual-first"
    assert [(v.name, v.is_control, v.position) for v in e.variants.order_by("position")] == [
        ("a", True, 0),
        ("b", False, 1),
    ]


@pytest.mark.parametrize(
    ("data", "variants", "field"),
    [
        ({"name": ""}, [], "name"),
        ({"name": "x", "key": "Not A Slug"}, [], "key"),
        ({"name": "x", "key": "active"}, [], "key"),
        ({"name": "x", "confidence_level": "0.5"}, [], "confidence_level"),
        ({"name": "x", "coverage": "1.2"}, [], "coverage"),
        ({"name": "x", "eligibility_rules": {"shoe_size": 42}}, [], "eligibility_rules.shoe_size"),
        ({"name": "x", "eligibility_rules": {"channel": {"$near": 1}}}, [], "eligibility_rules.channel.$near"),
        ({"name": "x"}, [{"name": "a", "weight": "2"}], "variants[0].weight"),
        ({"name": "x"}, [{"name": "a", "weight": "0.5"}, {"name": "a", "weight": "0.5"}], "variants[1].name"),
        (
            {"name": "x"},
            [{"name": "a", "weight": "0.5", "is_control": True}, {"name": "b", "weight": "0.5", "is_control": True}],
            "variants",
        ),
    ],
)
def test_create_rejects_bad_input_with_field_messages(db, data, variants, field):
    with pytest.raises(ValidationError) as info:
        services.experiment_create(data=data, variants=variants)
    assert field in info.value.message_dict
    assert not Experiment.objects.exists()


def test_duplicate_name_and_key_are_clear_errors(make_experiment):
    make_experiment(key="dup")
    with pytest.raises(ValidationError) as info:
        services.experiment_create(data={"name": "Test dup", "key": "other"})
    assert "name" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.experiment_create(data={"name": "Other", "key": "dup"})
    assert "key" in info.value.message_dict


def test_lifecycle_is_audited_and_enforced(make_experiment):
    staff = StaffFactory()
    e = make_experiment(start=False)
    with pytest.raises(Conflict):
        services.experiment_pause(experiment=e, context=RequestContext.system(source="console", actor=staff))
    e = services.experiment_start(experiment=e, context=RequestContext.system(source="console", actor=staff))
    assert e.status == "running" and e.started_at is not None
    e = services.experiment_pause(experiment=e, context=RequestContext.system(source="console", actor=staff))
    e = services.experiment_start(experiment=e, context=RequestContext.system(source="console", actor=staff))
    e = services.experiment_stop(experiment=e, context=RequestContext.system(source="console", actor=staff))
    assert e.status == "stopped" and e.ended_at >= e.started_at
    with pytest.raises(Conflict):
        services.experiment_start(experiment=e, context=RequestContext.system(source="console", actor=staff))
    e = services.experiment_archive(experiment=e, context=RequestContext.system(source="console", actor=staff))
    assert (e.status, e.is_active) == ("archived", False)
    log = list(
        ExperimentAuditLog.objects.filter(experiment=e)
        .order_by("created_at", "id")
        .values_list("action", "to_status", "actor")
    )
    assert [a for a, _, _ in log] == ["created", "start", "pause", "resumed", "stop", "archive"]
    assert all(actor == staff.pk for action, _, actor in log if action != "created")


@pytest.mark.parametrize(
    ("weights", "message"),
    [(("1",), "at least two variants"), (("0.5", "0.4"), "sum to 1")],
)
def test_start_explains_what_is_missing(make_experiment, weights, message):
    e = make_experiment(weights=weights, start=False)
    with pytest.raises(ValidationError) as info:
        services.experiment_start(experiment=e)
    assert any(message in m for m in info.value.message_dict["variants"])
    e.refresh_from_db()
    assert e.status == "draft"


def test_running_experiment_refuses_variant_weight_key_changes(make_experiment):
    e = make_experiment()
    with pytest.raises(Conflict):
        services.experiment_update(experiment=e, data={}, variants=[{"name": "a", "weight": "1"}])
    with pytest.raises(Conflict):
        services.experiment_update(experiment=e, data={"key": "new-key"})
    e = services.experiment_update(experiment=e, data={"coverage": "0.5", "description": "half traffic"})
    assert e.coverage == Decimal("0.5")


def test_exposure_assigns_like_growthbook_and_is_sticky(make_experiment):
    e = make_experiment(weights=("0.3", "0.7"))
    expected = hashing.choose_variation(hashing.gb_hash(e.key, VISITOR), hashing.bucket_ranges(2, 1, [0.3, 0.7]))
    a = services.exposure_record(key=e.key, anonymous_id=VISITOR, tracking={"page_url": "/big-five/"})
    assert a.in_experiment and a.recorded
    assert a.variant == ["control", "variant-1"][expected]
    assert a.config == {"headline": f"H{expected}"}
    services.experiment_update(experiment=e, data={"coverage": "0"})  # nobody new gets in …
    again = services.exposure_record(key=e.key, anonymous_id=VISITOR)
    assert (again.variant, again.in_experiment) == (a.variant, True)  # … but the participant keeps their variant
    p = Participation.objects.get(experiment=e, anonymous_id=VISITOR)
    assert p.total_impressions == 2
    assert list(
        Impression.objects.filter(experiment=e).order_by("impression_at").values_list("is_first_exposure", flat=True)
    ) == [True, False]


def test_out_of_coverage_and_ineligible_see_control_and_are_not_counted(make_experiment):
    e = make_experiment(coverage="0")
    a = services.exposure_record(key=e.key, anonymous_id=VISITOR)
    assert (a.variant, a.in_experiment) == ("control", False)
    rules = make_experiment(key="members-only", eligibility_rules={"is_member": True, "channel": {"$in": [1, 3]}})
    b = services.exposure_record(key=rules.key, anonymous_id=VISITOR)
    assert (b.variant, b.in_experiment) == ("control", False)
    member = CustomerFactory(channel_id=1)
    c = services.exposure_record(key=rules.key, user=member)
    assert c.in_experiment
    assert Participation.objects.get(experiment=rules, anonymous_id=VISITOR).was_eligible_at_exposure is False
    assert experiment_results(experiment=rules)["participants"] == 1


def test_unknown_or_not_running_experiment(make_experiment):
    with pytest.raises(NotFound):
        services.exposure_record(key="nope", anonymous_id=VISITOR)
    draft = make_experiment(key="drafty", start=False)
    a = services.exposure_record(key=draft.key, anonymous_id=VISITOR)
    assert (a.variant, a.in_experiment, a.recorded) == ("control", False, False)
    with pytest.raises(ValidationError):
        services.exposure_record(key=draft.key, anonymous_id="short")


def test_forced_variant_is_never_recorded(make_experiment):
    e = make_experiment()
    forced = services.forced_assignment(key=e.key, variant_name="variant-1")
    assert (forced.variant, forced.forced, forced.recorded) == ("variant-1", True, False)
    assert services.parse_force("a:b, c:d,bad") == {"a": "b", "c": "d"}
    assert not Impression.objects.exists() and not Participation.objects.exists()


def test_definition_cache_is_invalidated_on_change(make_experiment, django_assert_num_queries):
    e = make_experiment()
    services.exposure_record(key=e.key, anonymous_id=VISITOR)
    from experiments.selectors import experiment_definition

    with django_assert_num_queries(1):  # the cache read only
        assert experiment_definition(key=e.key)["status"] == "running"
    services.experiment_pause(experiment=e)
    assert experiment_definition(key=e.key)["status"] == "paused"


def test_definition_cache_follows_create_rename_and_delete(db):
    from experiments.selectors import experiment_definition

    assert experiment_definition(key="later") is None  # "missing" is cached too
    e = services.experiment_create(data={"name": "Later", "key": "later"}, variants=[{"name": "a", "weight": "1"}])
    assert [v["name"] for v in experiment_definition(key="later")["variants"]] == ["a"]
    services.experiment_update(experiment=e, data={"key": "renamed"}, variants=[{"name": "b", "weight": "1"}])
    assert experiment_definition(key="later") is None
    assert [v["name"] for v in experiment_definition(key="renamed")["variants"]] == ["b"]
    services.experiment_delete(experiment=e)
    assert experiment_definition(key="renamed") is None


# --------------------------------------------------------------------- conversions


def _expose(e, **participant):
    return services.exposure_record(key=e.key, **participant)


def test_conversion_is_attributed_by_first_exposure(make_experiment):
    e = make_experiment()
    a = _expose(e, anonymous_id=VISITOR)
    [outcome] = services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, conversion_value="12.50")
    assert (outcome.experiment_key, outcome.variant, outcome.within_window, outcome.is_first_conversion) == (
        e.key,
        a.variant,
        True,
        True,
    )
    c = Conversion.objects.get()
    assert c.original_exposure_date == Participation.objects.get().first_exposure_date
    assert c.time_to_convert >= 0 and c.conversion_window_days == 30
    attribution = ConversionAttribution.objects.get(conversion=c)
    assert (attribution.attribution_method, attribution.conversion_value_attributed) == (
        "first_exposure",
        Decimal("12.50"),
    )
    p = Participation.objects.get()
    assert p.has_converted and p.conversion_within_window and p.first_conversion_date == c.created_at


def test_two_conversions_second_is_not_first(make_experiment):
    e = make_experiment()
    _expose(e, anonymous_id=VISITOR)
    services.conversion_record(conversion_type="signup", anonymous_id=VISITOR)
    [second] = services.conversion_record(conversion_type="signup", anonymous_id=VISITOR)
    assert second.is_first_conversion is False
    result = experiment_results(experiment=e)
    [metric] = result["metrics"]
    assert sum(v["converters"] for v in metric["variants"]) == 1  # a participant converts once


def test_conversion_before_exposure_is_not_attributed(make_experiment):
    e = make_experiment()
    _expose(e, anonymous_id=VISITOR)
    before = timezone.now() - timedelta(hours=1)
    assert services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, occurred_at=before) == []
    assert not Conversion.objects.exists()
    assert services.conversion_record(conversion_type="signup", anonymous_id="never-exposed-1") == []


def test_conversion_after_window_is_recorded_but_not_counted(make_experiment):
    e = make_experiment(conversion_window_days=7)
    _expose(e, anonymous_id=VISITOR)
    Participation.objects.update(first_exposure_date=timezone.now() - timedelta(days=8))
    [outcome] = services.conversion_record(conversion_type="signup", anonymous_id=VISITOR)
    assert outcome.within_window is False
    assert not ConversionAttribution.objects.exists()
    p = Participation.objects.get()
    assert p.has_converted and not p.conversion_within_window
    [metric] = experiment_results(experiment=e)["metrics"]
    assert sum(v["converters"] for v in metric["variants"]) == 0


def test_conversion_idempotency_key(make_experiment):
    e = make_experiment()
    _expose(e, anonymous_id=VISITOR)
    [first] = services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, idempotency_key="k-1")
    [again] = services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, idempotency_key="k-1")
    assert again.duplicate and again.conversion_id == first.conversion_id
    assert Conversion.objects.count() == 1


def test_conversion_for_named_experiment_only_and_bad_input(make_experiment):
    e1, e2 = make_experiment(key="one"), make_experiment(key="two")
    _expose(e1, anonymous_id=VISITOR)
    _expose(e2, anonymous_id=VISITOR)
    assert len(services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, experiment_key="two")) == 1
    assert len(services.conversion_record(conversion_type="other", anonymous_id=VISITOR)) == 2
    with pytest.raises(NotFound):
        services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, experiment_key="three")
    for bad in ({"conversion_type": "Bad Type!"}, {"conversion_type": "x", "conversion_value": "-3"}):
        with pytest.raises(ValidationError):
            services.conversion_record(anonymous_id=VISITOR, **bad)


# ------------------------------------------------------------------ identity stitching


def test_stitching_moves_anonymous_history_to_the_person(make_experiment):
    e = make_experiment()
    a = _expose(e, anonymous_id=VISITOR)
    services.conversion_record(conversion_type="signup", anonymous_id=VISITOR)
    user = CustomerFactory()
    assert services.identity_stitch(user=user, anonymous_id=VISITOR)["moved"] == 1
    p = Participation.objects.get()
    assert (p.user_id, p.anonymous_id, p.variant.name) == (user.pk, "", a.variant)
    assert not Impression.objects.filter(user__isnull=True).exists()
    assert Conversion.objects.get().user_id == user.pk
    assert ConversionAttribution.objects.get().user_id == user.pk
    again = services.exposure_record(key=e.key, user=user)  # sticky after identification
    assert again.variant == a.variant


def _variant_for(e, name_wanted, *, prefix):
    for i in range(500):
        key = f"{prefix}-{i:04d}"
        if services.assign(definition=_definition(e), participant_key=key, attributes={})[0]["name"] == name_wanted:
            return key
    raise AssertionError("no participant key found")


def _definition(e):
    from experiments.selectors import experiment_definition

    return experiment_definition(key=e.key)


def test_stitching_conflict_earlier_exposure_wins_and_counts_as_multiple_exposure(make_experiment):
    e = make_experiment()
    user = CustomerFactory()
    person_variant = _expose(e, user=user).variant
    other = "variant-1" if person_variant == "control" else "control"
    visitor = _variant_for(e, other, prefix="anon")
    _expose(e, anonymous_id=visitor)
    services.conversion_record(conversion_type="signup", anonymous_id=visitor)
    Participation.objects.filter(anonymous_id=visitor).update(first_exposure_date=timezone.now() - timedelta(days=1))
    result = services.identity_stitch(user=user, anonymous_id=visitor)
    assert (result["merged"], result["conflicts"]) == (1, 1)
    p = Participation.objects.get(experiment=e)
    assert p.user_id == user.pk and p.variant.name == other  # the anonymous exposure came first
    assert p.has_multiple_exposures and p.total_impressions == 2
    assert p.identity_merges[0]["kept"] == "anonymous"
    r = experiment_results(experiment=e)
    assert (r["participants"], r["multiple_exposure_participants"], r["multiple_exposure_share"]) == (0, 1, 1.0)
    assert Conversion.objects.get().conversion_eligibility_verified is False  # left out of the analysis
    assert sum(v["converters"] for v in r["metrics"][0]["variants"]) == 0
    assert any(w["code"] == "multiple_exposures" for w in r["warnings"])


def test_stitching_same_variant_is_merged_without_conflict(make_experiment):
    e = make_experiment(weights=("1", "0"))
    user = CustomerFactory()
    _expose(e, user=user)
    _expose(e, anonymous_id=VISITOR)
    result = services.identity_stitch(user=user, anonymous_id=VISITOR)
    assert (result["merged"], result["conflicts"]) == (1, 0)
    p = Participation.objects.get()
    assert not p.has_multiple_exposures and p.total_impressions == 2


# ------------------------------------------------------------ request context and tracking


def test_services_take_a_request_context_never_a_request():
    import inspect

    for name, fn in inspect.getmembers(services, inspect.isfunction):
        if fn.__module__ != services.__name__ or name.startswith("_"):
            continue
        params = inspect.signature(fn).parameters
        assert "request" not in params and "actor" not in params, name
        if "context" in params:
            assert params["context"].annotation == "RequestContext | None", name
            assert params["context"].kind is inspect.Parameter.KEYWORD_ONLY, name


UA_PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def _page_context(path="/big-five/?utm_source=news&utm_campaign=spring", **meta):
    from django.test import RequestFactory

    request = RequestFactory().get(path, HTTP_USER_AGENT=UA_PHONE, **meta)
    return RequestContext.from_request(request, source="page")


def test_exposure_on_a_page_takes_user_agent_url_and_utm_from_the_context(make_experiment):
    e = make_experiment()
    services.exposure_record(key=e.key, anonymous_id=VISITOR, tracking={"language_code": "fr"}, context=_page_context())
    imp = Impression.objects.get()
    assert (imp.user_agent, imp.device_type, imp.language_code) == (UA_PHONE, "mobile", "fr")
    assert imp.page_url == "http://testserver/big-five/?utm_source=news&utm_campaign=spring"
    assert (imp.utm_source, imp.utm_medium, imp.utm_campaign) == ("news", None, "spring")
    assert imp.user_context["device_type"] == "mobile"  # eligibility rules can test it


def test_what_the_caller_reports_wins_over_the_context(make_experiment):
    e = make_experiment()
    services.exposure_record(
        key=e.key,
        anonymous_id=VISITOR,
        tracking={"page_url": "/reported/", "device_type": "tablet", "utm_source": "ad"},
        context=_page_context(),
    )
    imp = Impression.objects.get()
    assert (imp.page_url, imp.device_type, imp.utm_source, imp.user_agent) == ("/reported/", "tablet", "ad", UA_PHONE)


def test_through_the_api_the_request_is_not_the_page(make_experiment):
    from django.test import RequestFactory

    e = make_experiment()
    request = RequestFactory().post("/api/v1/experiments/x/exposures/?utm_source=api", HTTP_USER_AGENT=UA_PHONE)
    services.exposure_record(
        key=e.key, anonymous_id=VISITOR, context=RequestContext.from_request(request, source="api")
    )
    imp = Impression.objects.get()
    assert (imp.user_agent, imp.device_type) == (UA_PHONE, "mobile")
    assert (imp.page_url, imp.utm_source) == (None, None)


def test_conversions_take_the_device_type_from_the_context(make_experiment):
    e = make_experiment()
    _expose(e, anonymous_id=VISITOR)
    services.conversion_record(
        conversion_type="signup",
        anonymous_id=VISITOR,
        tracking={"country_code": "fr", "referrer_source": "mail"},
        context=_page_context(),
    )
    c = Conversion.objects.get()
    assert (c.device_type, c.country_code, c.referrer_source, c.utm_source) == ("mobile", "FR", "mail", "news")


@pytest.mark.parametrize(
    ("tracking", "field"),
    [
        ({"scroll_depth_percent": 101}, "scroll_depth_percent"),
        ({"time_on_page": -1}, "time_on_page"),
        ({"device_type": "fridge"}, "device_type"),
        ({"connection_type": "pigeon"}, "connection_type"),
        ({"country_code": "FRA"}, "country_code"),
        ({"city": "x" * 101}, "city"),
        ({"metadata": ["not", "an", "object"]}, "metadata"),
        ({"bounce": "yes"}, "bounce"),
        ({"shoe_size": 42}, "shoe_size"),
    ],
)
def test_tracking_is_validated_by_the_service(make_experiment, tracking, field):
    e = make_experiment()
    with pytest.raises(ValidationError) as info:
        services.exposure_record(key=e.key, anonymous_id=VISITOR, tracking=tracking)
    assert field in info.value.message_dict
    assert not Impression.objects.exists() and not Participation.objects.exists()


def test_conversion_tracking_is_validated_by_the_service(make_experiment):
    e = make_experiment()
    _expose(e, anonymous_id=VISITOR)
    for tracking, field in (({"page_url": "/x/"}, "page_url"), ({"referrer_source": "r" * 201}, "referrer_source")):
        with pytest.raises(ValidationError) as info:
            services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, tracking=tracking)
        assert field in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.conversion_record(conversion_type="signup", anonymous_id=VISITOR, details=["a", "list"])
    assert "details" in info.value.message_dict
    assert not Conversion.objects.exists()


def test_a_started_experiment_may_change_its_variants_descriptions_only(make_experiment):
    e = make_experiment()
    same = [
        {"name": v.name, "weight": v.weight, "is_control": v.is_control, "config_json": v.config_json}
        for v in e.variants.order_by("position")
    ]
    same[1]["description"] = "Outcome-focused wording"
    services.experiment_update(experiment=e, data={}, variants=same)
    assert e.variants.get(name="variant-1").description == "Outcome-focused wording"
    assert ExperimentAuditLog.objects.filter(experiment=e, action="updated").get().details["changed"] == ["variants"]
    moved = [dict(same[1], is_control=False), dict(same[0], is_control=True)]  # re-ordered
    with pytest.raises(Conflict):
        services.experiment_update(experiment=e, data={}, variants=moved)
    with pytest.raises(Conflict):
        services.experiment_update(experiment=e, data={}, variants=[*same, {"name": "late", "weight": "0"}])


def test_history_records_who_and_through_which_door(make_experiment):
    staff = StaffFactory()
    e = make_experiment(start=False)
    services.experiment_start(experiment=e, context=RequestContext.system(source="console", actor=staff))
    services.experiment_pause(experiment=e, context=RequestContext.system(source="command"))
    services.experiment_stop(experiment=e)
    rows = list(
        ExperimentAuditLog.objects.filter(experiment=e).order_by("created_at", "id").values_list("actor", "details")
    )
    assert rows == [
        (None, {"variants": 2, "source": "system"}),
        (staff.pk, {"source": "console"}),
        (None, {"source": "command"}),
        (None, {"source": "system"}),
    ]


@pytest.mark.parametrize(
    ("data", "variants", "field"),
    [
        ({"name": "x" * 201}, [], "name"),
        ({"name": "x", "description": "d" * 10_001}, [], "description"),
        ({"name": "x", "conversion_window_days": 3651}, [], "conversion_window_days"),
        ({"name": "x", "target_sample_size": 0}, [], "target_sample_size"),
        ({"name": "x", "confidence_level": "0.955"}, [], "confidence_level"),
        ({"name": "x"}, [{"name": "a", "weight": "0.5", "description": "d" * 2001}], "variants[0].description"),
    ],
)
def test_definition_limits_live_in_the_service(db, data, variants, field):
    with pytest.raises(ValidationError) as info:
        services.experiment_create(data=data, variants=variants)
    assert field in info.value.message_dict
    if field.startswith("variants["):
        assert info.value.message_dict["variants"] == ["Variant 1 (description): Text of at most 2,000 characters."]
