"""Template tag, operator console (changelist, actions, results view), report command and demo data."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.template import Context, Template
from django.test import Client, RequestFactory

from experiments import demo, services
from experiments.models import Experiment, Impression, Participation
from focusedroom.middleware import VisitorIdMiddleware

TAG = Template(
    '{% load experiments %}{% experiment "bigfive-headline" as v %}<h1>{{ v.config.headline|default:"Default" }}</h1>{{ v.variant }}'
)


def render(path="/big-five/", cookie="", **meta):
    request = RequestFactory().get(path, HTTP_COOKIE=cookie, **meta)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    holder = {}

    def view(req):
        from django.http import HttpResponse

        holder["html"] = TAG.render(Context({"request": req}))
        return HttpResponse(holder["html"])

    response = VisitorIdMiddleware(view)(request)
    return holder["html"], response


def test_tag_assigns_records_and_sets_the_visitor_cookie(make_experiment):
    make_experiment(key="bigfive-headline")
    html, response = render()
    assert "<h1>H" in html
    assert "fr_aid" in response.cookies
    visitor = response.cookies["fr_aid"].value
    again, _ = render(cookie=f"fr_aid={visitor}")
    assert again == html
    p = Participation.objects.get()
    assert (p.anonymous_id, p.total_impressions) == (visitor, 2)
    assert Impression.objects.filter(page_url__endswith="/big-five/").count() == 2


def test_tag_records_what_the_page_request_tells(make_experiment):
    make_experiment(key="bigfive-headline")
    render(
        "/big-five/?utm_source=newsletter&utm_medium=email",
        HTTP_USER_AGENT="Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9",
    )
    imp = Impression.objects.get()
    assert imp.page_url == "http://testserver/big-five/?utm_source=newsletter&utm_medium=email"
    assert (imp.utm_source, imp.utm_medium, imp.utm_campaign) == ("newsletter", "email", None)
    assert (imp.device_type, imp.language_code) == ("tablet", "fr-FR")
    assert imp.user_agent.startswith("Mozilla/5.0 (iPad")


def test_tag_force_and_unknown_key(db, make_experiment):
    html, _ = render()
    assert "<h1>Default</h1>" in html  # no such experiment yet
    make_experiment(key="bigfive-headline")
    html, _ = render("/big-five/?fr_force=bigfive-headline:variant-1")
    assert "<h1>H1</h1>variant-1" in html
    assert not Participation.objects.exists()


@pytest.fixture
def console(staff_with_perms):
    user = staff_with_perms("experiments.view_experiment", "experiments.change_experiment")
    client = Client()
    client.force_login(user)
    return client


def test_changelist_query_budget_and_glance(console, make_experiment, django_assert_max_num_queries):
    e = make_experiment(key="first")
    services.exposure_record(key=e.key, anonymous_id="glance-visitor-1")
    with django_assert_max_num_queries(30) as few:
        r = console.get("/admin/experiments/experiment/")
    assert r.status_code == 200
    for i in range(6):
        make_experiment(key=f"more-{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = console.get("/admin/experiments/experiment/")
    assert b"View results" in r.content


def test_admin_actions_call_the_lifecycle_services(console, make_experiment):
    e = make_experiment(start=False)
    r = console.post(
        "/admin/experiments/experiment/", {"action": "action_start", "_selected_action": [str(e.pk)]}, follow=True
    )
    assert r.status_code == 200
    e.refresh_from_db()
    assert e.status == "running"
    one_arm = make_experiment(key="one-arm", weights=("1",), start=False)
    r = console.post(
        "/admin/experiments/experiment/", {"action": "action_start", "_selected_action": [str(one_arm.pk)]}, follow=True
    )
    assert b"at least two variants" in r.content


def test_results_view_reads_like_plain_language(console, db):
    demo.seed(scale=1)
    e = Experiment.objects.get(key=demo.KEY)
    r = console.get(f"/admin/experiments/experiment/{e.pk}/results/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<svg" in html and "outcome-headline" in html
    assert "probability" in html and "level" in html
    assert "Sample size" in html  # 6,000 of the 10,000 target


def test_demo_is_idempotent_and_report_command(db):
    first = demo.seed(scale=1)
    assert "6000 visitors" in first
    assert "already" in demo.seed(scale=1)
    out = StringIO()
    call_command("experiment_report", demo.KEY, stdout=out)
    text = out.getvalue()
    assert "big_five_completed" in text and "outcome-headline" in text and "probability" in text
    out = StringIO()
    call_command("experiment_report", demo.KEY, "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["participants"] == 6000 and data["srm"]["checked"]
    with pytest.raises(CommandError, match="No experiment"):
        call_command("experiment_report", "nope")


def test_admin_form_validates_eligibility_rules(console, make_experiment):
    e = make_experiment(start=False)
    url = f"/admin/experiments/experiment/{e.pk}/change/"
    form = {
        "name": e.name,
        "key": e.key,
        "seed": "",
        "description": "",
        "coverage": "1",
        "eligibility_rules": '{"shoe_size": 42}',
        "conversion_window_days": "30",
        "target_sample_size": "",
        "confidence_level": "0.95",
        "minimum_detectable_effect": "0.05",
        "sequential_testing": "on",
        "sequential_tuning": "5000",
        "regression_adjustment": "on",
        "pre_exposure_window_days": "14",
        "guardrail_threshold": "0.05",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "audit_log-TOTAL_FORMS": "0",
        "audit_log-INITIAL_FORMS": "0",
    }
    r = console.post(url, form)
    assert r.status_code == 200 and b"Unknown attribute" in r.content
    e.refresh_from_db()
    assert e.eligibility_rules == {}
