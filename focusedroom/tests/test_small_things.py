"""Small things that signal care: emailed links follow the server `make run` starts, a favicon, and one log
line per event."""

import subprocess

import pytest

from focusedroom.tests.test_settings_rules import ROOT, run_python

DUMMY_DATABASE = {"DATABASE_URL": "postgres://focusedroom:pw@127.0.0.1:1/focusedroom"}  # settings only, no connection
PRINT_SITE_URL = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"SERVE_ADDRESS": "127.0.0.1:8100"}, "http://127.0.0.1:8100"),
        ({"SERVE_ADDRESS": "0.0.0.0:8100"}, "http://127.0.0.1:8100"),
        (
            {"SERVE_ADDRESS": "127.0.0.1:8100", "SITE_URL": "https://focusedroom.example.com/"},
            "https://focusedroom.example.com",
        ),
    ],
)
def test_site_url_follows_the_served_address_unless_set(env, expected):
    result = run_python(PRINT_SITE_URL, {**DUMMY_DATABASE, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_make_run_passes_its_host_and_port_to_every_command():
    out = subprocess.run(
        ["make", "-n", "run", "PORT=8100"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for command in ("manage.py seed_demo", "manage.py ensure_demo_admin", "manage.py runserver 127.0.0.1:8100"):
        line = next(line for line in out.splitlines() if command in line)
        assert line.startswith("SERVE_ADDRESS=127.0.0.1:8100 "), line


def test_each_event_is_logged_once():
    code = """
import django, logging
django.setup()
logging.getLogger("django.request").warning("marker-request")
logging.getLogger("django.server").info("marker-server")
logging.getLogger("django.security.csrf").warning("marker-csrf")
logging.getLogger("rewards.receivers").warning("marker-app")
"""
    result = run_python(code, DUMMY_DATABASE)
    assert result.returncode == 0, result.stderr
    for marker in ("marker-request", "marker-server", "marker-csrf", "marker-app"):
        assert result.stderr.count(marker) == 1, result.stderr


def test_favicon_is_served_and_linked(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    html = client.get("/").content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html


@pytest.mark.django_db
def test_fields_bound_once_per_class_give_what_drf_gives():
    from rest_framework import serializers

    from accounts.api.serializers import CustomerSerializer, PersonSerializer
    from accounts.tests.factories import CustomerFactory

    first, second = PersonSerializer().fields, PersonSerializer().fields
    assert first is second  # built and bound once for the class
    assert "kit_state" in CustomerSerializer().fields and "kit_state" not in PersonSerializer().fields

    class Plain(serializers.ModelSerializer):  # the same declaration, built the usual way
        channel = serializers.PrimaryKeyRelatedField(read_only=True)

        class Meta(PersonSerializer.Meta):
            pass

    people = [CustomerFactory(name="Ada", age=36, country_code="GB"), CustomerFactory(phone_number="+441234")]
    assert [PersonSerializer(p).data for p in people] == [Plain(p).data for p in people]
    assert CustomerSerializer(people, many=True).data[1]["phone_number"] == "+441234"


def test_input_fields_bound_once_validate_each_request_on_its_own():
    from experiments.api.serializers import ExposureInputSerializer

    first = ExposureInputSerializer(data={"participant": {"anonymous_id": "visitor-0001"}, "page_url": "/a"})
    second = ExposureInputSerializer(data={"participant": {"user_id": 7, "anonymous_id": "x"}})
    unknown = ExposureInputSerializer(data={"scrol_depth": 3})
    assert first.fields is second.fields is unknown.fields  # built and bound once for the class
    assert first.is_valid() and first.validated_data == {
        "participant": {"anonymous_id": "visitor-0001"},
        "page_url": "/a",
    }
    assert not second.is_valid()
    assert "Give either user_id or anonymous_id" in str(second.errors["participant"])
    assert not unknown.is_valid()
    assert unknown.errors["scrol_depth"] == ["Unknown field. Did you mean scroll_depth_percent?"]
    third = ExposureInputSerializer(data={"time_on_page": 2**40})
    assert not third.is_valid() and "time_on_page" in third.errors  # the database's bounds still apply
    assert ExposureInputSerializer(data={"page_url": "/b"}).is_valid()  # nothing of the refused ones stays
    # An instance with a context or partial builds its own fields (they read both through their root).
    assert ExposureInputSerializer(data={}, partial=True).fields is not first.fields
    assert ExposureInputSerializer(data={}, context={"request": None}).fields is not first.fields


def test_input_fields_bound_once_leave_out_only_what_drf_would_skip():
    """Shared fields validate only the optional fields a body sends; the answer is DRF's own, which
    an instance with a context (fields of its own, DRF's loop over every field) gives."""
    from rest_framework import serializers

    from focusedroom.api.serializers import FieldsBuiltOnceMixin, StrictSerializer

    class Inner(StrictSerializer):
        code = serializers.CharField()

    class Body(FieldsBuiltOnceMixin, StrictSerializer):
        aliases = {"colour_name": "colour"}
        name = serializers.CharField()  # required: its absence is an error
        colour = serializers.CharField(required=False)
        size = serializers.IntegerField(default=3)  # a default applies when left out
        note = serializers.CharField(required=False, allow_null=True)
        tags = serializers.ListField(child=serializers.CharField(), required=False)
        inner = Inner(required=False)

        def validate_colour(self, value):
            return value.upper()

    bodies = [
        {"name": "a"},
        {},
        {"name": "a", "colour_name": "red"},
        {"name": "a", "colour": "red", "colour_name": "blue"},
        {"name": "a", "note": None, "tags": ["x"], "inner": {"code": "c"}, "size": 5},
        {"name": "a", "inner": {}},
        {"name": "a", "inner": None},
        {"name": "a", "size": "big"},
    ]
    Body().fields  # builds the shared fields
    assert Body._fields_skipped_when_absent == {"colour", "note", "tags", "inner"}  # left out when not sent
    for body in bodies:
        shared, own = Body(data=body), Body(data=body, context={"own": True})
        assert shared.fields is Body().fields and own.fields is not shared.fields
        assert shared.is_valid() == own.is_valid(), body
        assert (shared.validated_data, shared.errors) == (own.validated_data, own.errors), body
    renamed = Body(data={"name": "a", "colour_name": "red"})
    assert renamed.is_valid() and renamed.validated_data == {"name": "a", "colour": "RED", "size": 3}
