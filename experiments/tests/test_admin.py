"""The operator console writes through the services: same validation, same history as the API."""

import pytest
from django.test import Client

from experiments import services
from experiments.models import Experiment, ExperimentAuditLog, Variant

PERMS = (
    "experiments.view_experiment",
    "experiments.add_experiment",
    "experiments.change_experiment",
    "experiments.delete_experiment",
    "experiments.view_variant",
    "experiments.add_variant",
    "experiments.change_variant",
    "experiments.delete_variant",
)
ADD_URL = "/admin/experiments/experiment/add/"


@pytest.fixture
def staff(staff_with_perms):
    return staff_with_perms(*PERMS)


@pytest.fixture
def console(staff):
    client = Client()
    client.force_login(staff)
    return client


def experiment_form(experiment=None, variants=(), **fields) -> dict:
    """The change form as the browser posts it: the experiment's fields and the variants inline."""
    data = {
        "name": experiment.name if experiment else "Pricing page headline",
        "key": experiment.key if experiment else "",
        "seed": "",
        "description": "",
        "coverage": "1",
        "eligibility_rules": "{}",
        "conversion_window_days": "30",
        "target_sample_size": "",
        "confidence_level": "0.95",
        "minimum_detectable_effect": "0.05",
        "sequential_testing": "on",
        "sequential_tuning": "5000",
        "regression_adjustment": "on",
        "pre_exposure_window_days": "14",
        "guardrail_threshold": "0.05",
        "audit_log-TOTAL_FORMS": "0",
        "audit_log-INITIAL_FORMS": "0",
        **fields,
    }
    existing = list(experiment.variants.order_by("position")) if experiment else []
    data["variants-TOTAL_FORMS"] = str(len(variants))
    data["variants-INITIAL_FORMS"] = str(len(existing))
    for i, row in enumerate(variants):
        prefix = f"variants-{i}-"
        if i < len(existing):
            data[prefix + "id"] = str(existing[i].pk)
            data[prefix + "experiment"] = str(experiment.pk)
        for name, value in row.items():
            if name in ("is_control", "DELETE"):  # checkboxes
                if value:
                    data[prefix + name] = "on"
            else:
                data[prefix + name] = value
    return data


TWO_ARMS = [
    {"name": "control", "weight_percent": "50", "is_control": True, "config_json": '{"headline": "A"}'},
    {"name": "annual-first", "weight_percent": "50", "config_json": '{"headline": "B"}'},
]


def history(experiment):
    return list(
        ExperimentAuditLog.objects.filter(experiment=experiment)
        .order_by("created_at", "id")
        .values_list("action", "actor", "details")
    )


def test_add_creates_the_draft_and_its_variants_in_one_audited_service_call(console, staff):
    r = console.post(ADD_URL, experiment_form(variants=TWO_ARMS))
    assert r.status_code == 302, r.content.decode()[:2000]
    experiment = Experiment.objects.get()
    assert (experiment.key, experiment.status) == ("pricing-page-headline", "draft")  # key built from the name
    assert [(v.name, v.weight, v.is_control, v.config_json) for v in experiment.variants.order_by("position")] == [
        ("control", pytest.approx(0.5), True, {"headline": "A"}),
        ("annual-first", pytest.approx(0.5), False, {"headline": "B"}),
    ]
    assert history(experiment) == [("created", staff.pk, {"variants": 2, "source": "console"})]
    assert r["Location"] == "/admin/experiments/experiment/"


@pytest.mark.parametrize(
    ("fields", "variants", "message"),
    [
        ({"key": "active"}, TWO_ARMS, "is reserved"),
        ({"eligibility_rules": '{"channel": {"$near": 1}}'}, TWO_ARMS, "channel.$near: Unknown operator"),
        ({}, [TWO_ARMS[0], {**TWO_ARMS[1], "name": "control"}], "Variant 2 (name): Variant names must be unique"),
        ({}, [TWO_ARMS[0], {**TWO_ARMS[1], "weight_percent": ""}], "Variant 2 (weight): Enter a number."),
        ({}, [TWO_ARMS[0], {**TWO_ARMS[1], "is_control": True}], "Exactly one variant is the control"),
        ({"coverage": "1.5"}, TWO_ARMS, "Must be between 0 and 1"),
    ],
)
def test_add_shows_the_services_refusal_on_the_form_and_saves_nothing(console, fields, variants, message):
    r = console.post(ADD_URL, experiment_form(variants=variants, **fields))
    assert r.status_code == 200
    html = r.content.decode()
    assert message in html and "errornote" in html
    assert 'value="Pricing page headline"' in html  # what was typed is still there
    assert not Experiment.objects.exists() and not Variant.objects.exists()
    assert not ExperimentAuditLog.objects.exists()


def test_field_refusals_sit_next_to_their_field(console, make_experiment):
    make_experiment(key="taken", start=False)
    r = console.post(ADD_URL, experiment_form(variants=TWO_ARMS, name="Other", key="taken"))
    assert r.status_code == 200
    form = r.context["adminform"].form
    assert "key" in form.errors and "taken" in form.errors["key"][0]


def test_changing_a_draft_replaces_its_variants_through_the_service(console, staff, make_experiment):
    draft = make_experiment(key="draft-one", start=False)
    rows = [
        {"name": "control", "weight_percent": "30", "is_control": True, "config_json": '{"headline": "H0"}'},
        {"name": "variant-1", "weight_percent": "70", "config_json": '{"headline": "H1"}'},
        {"name": "", "weight_percent": "", "config_json": ""},  # an empty extra row is ignored
    ]
    data = experiment_form(draft, rows, description="Annual first")
    r = console.post(f"/admin/experiments/experiment/{draft.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:3000]
    draft.refresh_from_db()
    assert draft.description == "Annual first"
    assert [str(v.weight) for v in draft.variants.order_by("position")] == ["0.3000", "0.7000"]
    action, actor, details = history(draft)[-1]
    assert (action, actor, details) == (
        "updated",
        staff.pk,
        {"changed": ["description", "variants"], "source": "console"},
    )


def test_a_variant_deleted_in_the_inline_goes_through_the_service(console, make_experiment):
    draft = make_experiment(key="three-arms", weights=("0.4", "0.3", "0.3"), start=False)
    rows = [
        {"name": "control", "weight_percent": "50", "is_control": True, "config_json": "{}"},
        {"name": "variant-1", "weight_percent": "50", "config_json": "{}"},
        {"name": "variant-2", "weight_percent": "30", "config_json": "{}", "DELETE": True},
    ]
    r = console.post(f"/admin/experiments/experiment/{draft.pk}/change/", experiment_form(draft, rows))
    assert r.status_code == 302, r.content.decode()[:3000]
    assert list(draft.variants.order_by("position").values_list("name", flat=True)) == ["control", "variant-1"]


def test_a_running_experiment_keeps_its_variants_and_edits_are_validated(console, staff, make_experiment):
    running = make_experiment(key="running-one")
    make_experiment(key="other", start=False)
    url = f"/admin/experiments/experiment/{running.pk}/change/"
    frozen = {"key", "seed", "conversion_window_days"}
    base = {k: v for k, v in experiment_form(running).items() if k not in frozen}
    # Read-only columns of the variants: only their descriptions are posted.
    described = [{"description": "the old headline"}, {"description": ""}]
    data = {**experiment_form(running, described), **{k: base[k] for k in base if not k.startswith("variants-")}}
    for k in frozen:
        data.pop(k, None)

    r = console.post(url, {**data, "name": "Test other"})  # another experiment's name
    assert r.status_code == 200 and "An experiment with this name already exists." in r.content.decode()

    r = console.post(url, {**data, "coverage": "0.5"})
    assert r.status_code == 302, r.content.decode()[:3000]
    running.refresh_from_db()
    assert str(running.coverage) == "0.5000"
    assert running.variants.get(position=0).description == "the old headline"
    assert [str(v.weight) for v in running.variants.order_by("position")] == ["0.5000", "0.5000"]
    action, actor, details = history(running)[-1]
    assert (action, actor, details["changed"]) == ("updated", staff.pk, ["coverage", "variants"])


def test_delete_goes_through_the_service_and_refuses_started_experiments(console, make_experiment):
    draft = make_experiment(key="to-delete", start=False)
    running = make_experiment(key="keep-running")
    r = console.post(f"/admin/experiments/experiment/{running.pk}/delete/", {"post": "yes"}, follow=True)
    assert "Only a draft can be deleted" in r.content.decode()
    assert Experiment.objects.filter(pk=running.pk).exists()
    r = console.post(f"/admin/experiments/experiment/{draft.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not Experiment.objects.filter(pk=draft.pk).exists()


def test_bulk_delete_confirms_then_deletes_drafts_only(console, make_experiment):
    draft = make_experiment(key="bulk-draft", start=False)
    running = make_experiment(key="bulk-running")
    selected = {"action": "delete_selected", "_selected_action": [str(draft.pk), str(running.pk)]}
    r = console.post("/admin/experiments/experiment/", selected)
    assert r.status_code == 200 and b"Are you sure you want to delete the selected" in r.content
    assert Experiment.objects.count() == 2
    r = console.post("/admin/experiments/experiment/", {**selected, "post": "yes"}, follow=True)
    html = r.content.decode()
    assert "Deleted: 1 experiment(s)." in html and "Only a draft can be deleted" in html
    assert list(Experiment.objects.values_list("key", flat=True)) == ["bulk-running"]


def test_lifecycle_actions_record_the_staff_member_and_the_console(console, staff, make_experiment):
    e = make_experiment(key="act", start=False)
    console.post("/admin/experiments/experiment/", {"action": "action_start", "_selected_action": [str(e.pk)]})
    e.refresh_from_db()
    assert e.status == "running"
    assert history(e)[-1] == ("start", staff.pk, {"source": "console"})


def test_console_and_api_refuse_alike(console, staff_client, make_experiment):
    """The same bad input gets the same refusal through both doors (the rule lives in the service)."""
    payload = {"name": "Same rule", "key": "Not A Slug"}
    api = staff_client("experiments.add_experiment").post("/api/v1/experiments/", payload, format="json").json()
    r = console.post(ADD_URL, experiment_form(variants=TWO_ARMS, **payload))
    assert api["error"]["fields"]["key"] == r.context["adminform"].form.errors["key"]
    assert not services.Experiment.objects.exists()


def test_weights_are_entered_in_percent_and_positions_follow_the_rows(console):
    rows = [
        {"name": "control", "weight_percent": "33.34", "is_control": True, "config_json": ""},
        {"name": "b", "weight_percent": "33.33", "config_json": '{"headline": "B"}'},
        {"name": "c", "weight_percent": "33.33", "config_json": '{"headline": "C"}'},
    ]
    r = console.post(ADD_URL, experiment_form(variants=rows))
    assert r.status_code == 302, r.content.decode()[:2000]
    variants = list(Experiment.objects.get().variants.order_by("position"))
    assert [(v.position, v.name, str(v.weight), v.config_json) for v in variants] == [
        (0, "control", "0.3334", {}),  # an empty config box is "no settings", not null
        (1, "b", "0.3333", {"headline": "B"}),
        (2, "c", "0.3333", {"headline": "C"}),
    ]


@pytest.mark.parametrize(("typed", "message"), [("33.333", "2 decimal places"), ("150", "less than or equal to 100")])
def test_a_percentage_is_a_number_from_0_to_100_with_two_decimals(console, typed, message):
    rows = [TWO_ARMS[0], {**TWO_ARMS[1], "weight_percent": typed}]
    r = console.post(ADD_URL, experiment_form(variants=rows))
    assert r.status_code == 200 and message in r.content.decode()
    assert not Experiment.objects.exists()


def test_the_form_has_single_line_names_percent_weights_and_no_positions(console, make_experiment):
    html = console.get(ADD_URL).content.decode()
    assert '<input type="text" name="name"' in html and '<textarea name="name"' not in html
    assert 'name="variants-0-weight_percent"' in html and 'name="variants-1-weight_percent"' in html
    assert "-position" not in html and 'name="variants-0-weight"' not in html
    assert 'placeholder="{&quot;headline&quot;: &quot;Discover your strengths&quot;}"' in html
    assert "Lifecycle" not in html and "object at 0x" not in html  # nothing the database fills on a new one

    draft = make_experiment(key="shown", weights=("0.25", "0.75"), start=False)
    html = console.get(f"/admin/experiments/experiment/{draft.pk}/change/").content.decode()
    assert 'name="variants-0-weight_percent" value="25"' in html
    assert 'name="variants-1-weight_percent" value="75"' in html
    assert 'name="variants-0-config_json"' in html and "{&quot;headline&quot;: &quot;H0&quot;}" in html


def lifecycle_url(experiment, action: str) -> str:
    return f"/admin/experiments/experiment/{experiment.pk}/lifecycle/{action}/"


@pytest.mark.parametrize(
    ("start", "buttons"),
    [(False, ["Start", "Archive"]), (True, ["Pause", "Stop"])],
)
def test_the_experiment_page_offers_the_lifecycle_buttons_of_its_status(console, make_experiment, start, buttons):
    experiment = make_experiment(key="buttons", start=start)
    html = console.get(f"/admin/experiments/experiment/{experiment.pk}/change/").content.decode()
    offered = [label for label in ("Start", "Resume", "Pause", "Stop", "Archive") if f'">{label}</a></li>' in html]
    assert offered == buttons
    assert f'href="/admin/experiments/experiment/{experiment.pk}/results/">View results</a>' in html


def test_start_asks_first_saying_the_variants_freeze_then_starts_through_the_service(console, staff, make_experiment):
    draft = make_experiment(key="to-start", start=False)
    page = console.get(lifecycle_url(draft, "start"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Start this experiment?" in html and "Its variants freeze" in html
    assert "50 %" in html and "100 %" in html  # the weights it will run with, in percent
    draft.refresh_from_db()
    assert draft.status == "draft"  # asking changes nothing

    r = console.post(lifecycle_url(draft, "start"))
    assert r.status_code == 302 and r["Location"] == f"/admin/experiments/experiment/{draft.pk}/change/"
    draft.refresh_from_db()
    assert draft.status == "running"
    assert history(draft)[-1] == ("start", staff.pk, {"source": "console"})
    html = console.get(r["Location"]).content.decode()
    assert "is now running" in html and ">Pause</a>" in html and ">Start</a>" not in html


def test_pause_resume_stop_and_archive_from_the_page(console, make_experiment):
    experiment = make_experiment(key="whole-life")
    for action, status in [("pause", "paused"), ("resume", "running"), ("stop", "stopped"), ("archive", "archived")]:
        assert console.post(lifecycle_url(experiment, action)).status_code == 302
        experiment.refresh_from_db()
        assert experiment.status == status
    assert [a for a, _, _ in history(experiment)][-4:] == ["pause", "resumed", "stop", "archive"]


def test_a_refused_start_says_why_in_percent_and_changes_nothing(console, make_experiment):
    draft = make_experiment(key="short", weights=("0.5", "0.4"), start=False)
    r = console.post(lifecycle_url(draft, "start"))
    assert r.status_code == 400
    html = r.content.decode()
    assert "It was not started" in html and "i.e. 100 % (they sum to 0.9000, i.e. 90 %)" in html
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_button_the_status_does_not_allow_is_not_offered_on_its_page(console, make_experiment):
    running = make_experiment(key="already")
    html = console.get(lifecycle_url(running, "start")).content.decode()
    assert "cannot be started" in html and "Yes, start it" not in html
    assert console.post(lifecycle_url(running, "archive")).status_code == 400
    assert console.get(lifecycle_url(running, "explode")).status_code == 404


def test_lifecycle_needs_the_change_permission(staff_with_perms, make_experiment):
    draft = make_experiment(key="viewer", start=False)
    client = Client()
    client.force_login(staff_with_perms("experiments.view_experiment"))
    assert client.get(lifecycle_url(draft, "start")).status_code == 403
    assert client.post(lifecycle_url(draft, "start")).status_code == 403
    html = client.get(f"/admin/experiments/experiment/{draft.pk}/change/").content.decode()
    assert ">Start</a>" not in html
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_list_shows_what_a_marketer_scans_for(console, make_experiment):
    make_experiment(key="listed")
    html = console.get("/admin/experiments/experiment/").content.decode()
    for column in ("column-name", "column-status", "column-period", "column-participants", "column-results_link"):
        assert column in html
    assert "column-key" not in html and "column-ended_at" not in html
    assert " – now" in html and ">View results</a>" in html
