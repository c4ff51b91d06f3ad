"""The experiments API: staff CRUD and lifecycle, public exposures/conversions/active, results."""

from rest_framework.test import APIClient

from accounts.tests.factories import CustomerFactory
from experiments import services
from experiments.models import Experiment, ExperimentAuditLog, Impression, Participation

ALL = (
    "experiments.view_experiment",
    "experiments.add_experiment",
    "experiments.change_experiment",
    "experiments.delete_experiment",
    "experiments.add_variant",
    "experiments.change_variant",
)
PAYLOAD = {
    "name": "Big Five headline",
    "confidence_level": "0.90",
    "target_sample_size": 2000,
    "variants": [
        {"name": "control", "weight": "0.5", "is_control": True, "config_json": {"headline": "A"}},
        {"name": "outcome-headline", "weight": "0.5", "config_json": {"headline": "B"}},
    ],
}


def test_staff_creates_with_nested_variants_and_runs_lifecycle(staff_client):
    client = staff_client(*ALL)
    r = client.post("/api/v1/experiments/", PAYLOAD, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["key"] == "big-five-headline" and body["status"] == "draft"
    assert [v["name"] for v in body["variants"]] == ["control", "outcome-headline"]
    for action, status in (
        ("start", "running"),
        ("pause", "paused"),
        ("start", "running"),
        ("stop", "stopped"),
        ("archive", "archived"),
    ):
        r = client.post(f"/api/v1/experiments/big-five-headline/{action}/")
        assert r.status_code == 200 and r.json()["status"] == status
    r = client.post("/api/v1/experiments/big-five-headline/start/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert ExperimentAuditLog.objects.filter(actor__isnull=False).count() == 6  # created + 5 transitions


def test_bad_input_is_a_400_with_field_messages(staff_client):
    client = staff_client(*ALL)
    r = client.post("/api/v1/experiments/", {"name": "x", "variants": [{"name": "a", "weight": "3"}]}, format="json")
    assert r.status_code == 400 and "variants" in r.json()["error"]["fields"]
    r = client.post("/api/v1/experiments/", {"name": "x", "eligibility_rules": {"planet": "mars"}}, format="json")
    assert r.status_code == 400 and "eligibility_rules.planet" in r.json()["error"]["fields"]
    client.post("/api/v1/experiments/", {**PAYLOAD, "variants": [PAYLOAD["variants"][0]]}, format="json")
    r = client.post("/api/v1/experiments/big-five-headline/start/")
    assert r.status_code == 400 and "variants" in r.json()["error"]["fields"]
    assert not Experiment.objects.filter(status="running").exists()


def test_running_experiment_refuses_variant_changes(staff_client):
    client = staff_client(*ALL)
    client.post("/api/v1/experiments/", PAYLOAD, format="json")
    client.post("/api/v1/experiments/big-five-headline/start/")
    r = client.patch(
        "/api/v1/experiments/big-five-headline/",
        {"variants": [{"name": "control", "weight": "0.2"}, {"name": "b", "weight": "0.8"}]},
        format="json",
    )
    assert r.status_code == 409 and "variants" in r.json()["error"]["fields"]
    r = client.patch("/api/v1/experiments/big-five-headline/", {"description": "ok"}, format="json")
    assert r.status_code == 200 and r.json()["description"] == "ok"


def test_permissions(staff_client, member_client, api_client):
    assert api_client.get("/api/v1/experiments/").status_code in (401, 403)
    assert member_client.get("/api/v1/experiments/").status_code == 403
    viewer = staff_client("experiments.view_experiment")
    assert viewer.get("/api/v1/experiments/").status_code == 200
    assert viewer.post("/api/v1/experiments/", PAYLOAD, format="json").status_code == 403
    no_variant_perm = staff_client("experiments.add_experiment", "experiments.view_experiment")
    assert no_variant_perm.post("/api/v1/experiments/", PAYLOAD, format="json").status_code == 403
    staff_client(*ALL).post("/api/v1/experiments/", PAYLOAD, format="json")
    assert viewer.post("/api/v1/experiments/big-five-headline/start/").status_code == 403
    assert member_client.get("/api/v1/experiments/big-five-headline/results/").status_code == 403


def test_list_query_count_does_not_grow(staff_client, make_experiment, django_assert_max_num_queries):
    client = staff_client("experiments.view_experiment")
    make_experiment(key="first")
    with django_assert_max_num_queries(15) as few:
        client.get("/api/v1/experiments/")
    for i in range(8):
        make_experiment(key=f"more-{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = client.get("/api/v1/experiments/")
    assert r.json()["count"] == 9


def test_anonymous_exposure_uses_given_id_or_visitor_cookie(make_experiment):
    make_experiment(key="bigfive-headline")
    client = APIClient()
    r = client.post(
        "/api/v1/experiments/bigfive-headline/exposures/",
        {
            "participant": {"anonymous_id": "browser-visitor-1"},
            "page_url": "/big-five/",
            "scroll_depth_percent": 40,
            "connection_type": "4g",
            "metadata": {"ab": 1},
        },
        format="json",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    )
    assert r.status_code == 200, r.json()
    assert set(r.json()) == {"variant", "config", "in_experiment", "visitor_token"} and r.json()["in_experiment"]
    imp = Impression.objects.get()
    assert (imp.device_type, imp.scroll_depth_percent, imp.connection_type, imp.metadata) == (
        "mobile",
        40,
        "4g",
        {"ab": 1},
    )
    r = client.post("/api/v1/experiments/bigfive-headline/exposures/", {}, format="json")
    assert r.status_code == 200 and "fr_aid" in r.cookies
    assert Participation.objects.count() == 2


def test_exposure_bad_input_and_identity_rules(make_experiment, member_client, member):
    make_experiment(key="bigfive-headline")
    client = APIClient()
    url = "/api/v1/experiments/bigfive-headline/exposures/"
    r = client.post(url, {"participant": {"anonymous_id": "ok-visitor-1"}, "scroll_depth_percent": 120}, format="json")
    assert r.status_code == 400 and "scroll_depth_percent" in r.json()["error"]["fields"]
    assert client.post(url, {"participant": {"user_id": member.pk}}, format="json").status_code == 403
    assert client.post("/api/v1/experiments/nope/exposures/", {}, format="json").status_code == 404
    other = CustomerFactory()
    assert member_client.post(url, {"participant": {"user_id": other.pk}}, format="json").status_code == 403
    r = member_client.post(url, {}, format="json")
    assert r.status_code == 200
    assert Participation.objects.get().user_id == member.pk


def test_forced_variant_via_query_is_not_recorded(make_experiment):
    make_experiment(key="bigfive-headline")
    r = APIClient().post(
        "/api/v1/experiments/bigfive-headline/exposures/?fr_force=bigfive-headline:variant-1", {}, format="json"
    )
    assert r.json() == {"variant": "variant-1", "config": {"headline": "H1"}, "in_experiment": False}
    assert not Impression.objects.exists()


def test_conversions_endpoint(make_experiment):
    make_experiment(key="bigfive-headline")
    client = APIClient()
    token = client.post(
        "/api/v1/experiments/bigfive-headline/exposures/",
        {"participant": {"anonymous_id": "conv-visitor-1"}},
        format="json",
    ).json()["visitor_token"]
    body = {
        "participant": {"anonymous_id": "conv-visitor-1", "visitor_token": token},
        "conversion_type": "ebook_download",
        "conversion_value": "9.99",
        "idempotency_key": "abc",
        "details": {"book": "focus"},
    }
    r = client.post("/api/v1/conversions/", body, format="json")
    assert r.status_code == 201 and r.json()["conversions"][0]["within_window"] is True
    r = client.post("/api/v1/conversions/", body, format="json")
    assert r.status_code == 200 and r.json()["conversions"][0]["duplicate"] is True
    r = client.post("/api/v1/conversions/", {**body, "conversion_value": "-1"}, format="json")
    assert r.status_code == 400 and "conversion_value" in r.json()["error"]["fields"]


def test_active_and_results(make_experiment, staff_client):
    make_experiment(key="bigfive-headline")
    make_experiment(key="drafty", start=False)
    r = APIClient().get("/api/v1/experiments/active/")
    assert r.status_code == 200
    [active] = r.json()
    assert active["key"] == "bigfive-headline" and active["hash_version"] == 2 and active["seed"] == "bigfive-headline"
    assert [v["weight"] for v in active["variants"]] == [0.5, 0.5]
    for i in range(30):
        services.exposure_record(key="bigfive-headline", anonymous_id=f"results-visitor-{i:03d}")
        if i % 3 == 0:
            services.conversion_record(conversion_type="signup", anonymous_id=f"results-visitor-{i:03d}")
    r = staff_client("experiments.view_experiment").get("/api/v1/experiments/bigfive-headline/results/")
    assert r.status_code == 200
    body = r.json()
    assert body["participants"] == 30 and body["metrics"][0]["conversion_type"] == "signup"
    challenger = body["metrics"][0]["variants"][1]
    assert {"uplift", "ci", "p_value", "p_value_holm", "chance_to_win", "risk_variant", "verdict"} <= set(challenger)
    assert body["srm"]["checked"] is False


def test_delete_drafts_only_and_status_filter(staff_client, make_experiment):
    client = staff_client(*ALL)
    make_experiment(key="running-one")
    make_experiment(key="draft-one", start=False)
    r = client.get("/api/v1/experiments/?status=draft")
    assert [e["key"] for e in r.json()["results"]] == ["draft-one"]
    r = client.delete("/api/v1/experiments/running-one/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert client.delete("/api/v1/experiments/draft-one/").status_code == 204
    assert list(Experiment.objects.values_list("key", flat=True)) == ["running-one"]


UA_PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def test_exposure_and_conversion_default_to_the_requests_user_agent(make_experiment):
    make_experiment(key="bigfive-headline")
    client = APIClient()
    body = {"participant": {"anonymous_id": "ua-visitor-01"}, "country_code": "fr"}
    r = client.post(
        "/api/v1/experiments/bigfive-headline/exposures/?utm_source=query",
        body,
        format="json",
        HTTP_USER_AGENT=UA_PHONE,
    )
    assert r.status_code == 200
    body["participant"]["visitor_token"] = r.json()["visitor_token"]
    imp = Impression.objects.get()
    assert (imp.user_agent, imp.device_type, imp.country_code) == (UA_PHONE, "mobile", "FR")
    assert (imp.page_url, imp.utm_source) == (None, None)  # the API request is not the page the visitor saw
    r = client.post(
        "/api/v1/conversions/", {**body, "conversion_type": "signup"}, format="json", HTTP_USER_AGENT=UA_PHONE
    )
    assert r.status_code == 201
    from experiments.models import Conversion

    c = Conversion.objects.get()
    assert (c.device_type, c.country_code) == ("mobile", "FR")


def test_value_rules_come_from_the_services(staff_client, make_experiment):
    client = staff_client(*ALL)
    r = client.post("/api/v1/experiments/", {"name": "x" * 201}, format="json")
    assert r.status_code == 400 and r.json()["error"]["fields"]["name"] == ["Give a name of 1 to 200 characters."]
    r = client.post("/api/v1/experiments/", {"name": "x", "confidence_level": "0.5"}, format="json")
    assert r.json()["error"]["fields"]["confidence_level"] == ["Must be between 0.80 and 0.99."]
    make_experiment(key="bigfive-headline")
    url = "/api/v1/experiments/bigfive-headline/exposures/"
    r = APIClient().post(
        url, {"participant": {"anonymous_id": "rules-visitor-1"}, "device_type": "fridge"}, format="json"
    )
    assert r.status_code == 400 and r.json()["error"]["fields"]["device_type"][0].startswith("Use one of desktop")
    r = APIClient().post(url, {"participant": {"anonymous_id": "x" * 65}}, format="json")
    assert r.status_code == 400 and "participant.anonymous_id" in r.json()["error"]["fields"]
    assert not Impression.objects.exists()


def test_running_experiment_variant_descriptions_may_change(staff_client):
    client = staff_client(*ALL)
    client.post("/api/v1/experiments/", PAYLOAD, format="json")
    client.post("/api/v1/experiments/big-five-headline/start/")
    variants = [{**v, "description": f"about {v['name']}"} for v in PAYLOAD["variants"]]
    r = client.patch("/api/v1/experiments/big-five-headline/", {"variants": variants}, format="json")
    assert r.status_code == 200, r.json()
    assert [v["description"] for v in r.json()["variants"]] == ["about control", "about outcome-headline"]
    assert [v["weight"] for v in r.json()["variants"]] == ["0.5000", "0.5000"]
    log = ExperimentAuditLog.objects.filter(action="updated").get()
    assert log.details == {"changed": ["variants"], "source": "api"} and log.actor_id is not None
