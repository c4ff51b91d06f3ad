"""The plumbing's boundary: what PostgreSQL can hold (``focusedroom.bounds``), the strict input
serializers (``focusedroom.api.serializers``), the request middleware and the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, connection
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from focusedroom import bounds
from focusedroom.api.serializers import StrictSerializer, suggestion
from focusedroom.middleware import StorableInputMiddleware

# ---------------------------------------------------------------------------- bounds


def test_unstorable_path_names_the_first_bad_string_or_key():
    assert bounds.unstorable_path({"a": [1, {"b": "ok"}]}) is None
    assert bounds.unstorable_path({"a": [1, {"b": "x\x00"}]}) == "a[1].b"
    assert bounds.unstorable_path({"k\x00": 1}) == "k\x00"
    assert bounds.unstorable_path(["\ud800"]) == "[0]"
    assert bounds.unstorable_path("😀 and \u00e9") is None  # real characters, surrogate pairs included


_TEXT = st.text(alphabet=st.sampled_from(["a", "é", "😀", "\x00", "\ud800", "\udfff", "\\", "u", "0", '"']), max_size=8)
_LEAVES = (
    _TEXT | st.integers() | st.floats(allow_nan=True) | st.booleans() | st.none() | st.builds(Decimal, st.integers())
)
_KEYS = _TEXT | st.integers() | st.booleans() | st.tuples(st.integers())
_DOCUMENTS = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_KEYS, inner, max_size=4)
        | st.frozensets(st.integers(), max_size=2)
    ),
    max_leaves=20,
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.dictionaries(_KEYS, _DOCUMENTS, max_size=5), st.lists(_DOCUMENTS, max_size=5)))
def test_the_one_pass_check_of_a_document_finds_what_the_walk_finds(document):
    """A clean JSON text is decided in one pass; any other document is walked: the answer (the first
    bad path, or None) is the walk's for every document, a literal backslash-u-zero text included."""
    assert bounds.unstorable_path(document) == bounds._first_unstorable(document)


def test_the_model_guard_checks_each_kind_of_field(db):
    from accounts.models import Customer
    from engagement.models import QuizResult

    person = Customer(email="guard@example.com", first_name="a\x00b", age=2**40)
    with pytest.raises(ValidationError) as refused:
        bounds.check_instance(person)
    assert {"first_name", "age"} <= set(refused.value.message_dict)
    result = QuizResult(scores={"ok": ["x", {"deep": "\ud800"}]}, result_details={"fine": "\\u0000 as text"})
    with pytest.raises(ValidationError) as refused:
        bounds.check_instance(result)
    assert set(refused.value.message_dict) == {"scores"}
    bounds.check_instance(result, update_fields=["result_details"])  # only what is saved is checked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "2026-03-01T10:00:00+15:59",
            dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=15, minutes=59))),
        ),
        ("2026-03-01T10:00:00Z", dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)),
        ("not a date", None),
    ],
)
def test_parse_datetime_accepts_what_postgresql_holds(text, expected):
    assert bounds.parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03-01T10:00:00+16:00", "UTC offset"),
        ("2026-03-01T10:00:00-23:30", "UTC offset"),
        ("2026-03-01T10:00:00+99:00", "UTC offset"),
        ("2026-02-30T10:00:00Z", "Not a real date"),
        ("2026-03-01T25:00:00Z", "Not a real date"),
        ("0001-01-01T00:00:00+05:00", "years 1 and 9999"),
        ("9999-12-31T23:00:00-05:00", "years 1 and 9999"),
    ],
)
def test_parse_datetime_refuses_what_postgresql_cannot_hold(text, message):
    with pytest.raises(ValueError, match=message):
        bounds.parse_datetime(text)


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["2026-03-01T10:00:00+15:59", "0001-01-02T00:00:00Z", "9999-12-30T00:00:00Z"])
def test_every_accepted_datetime_round_trips_through_postgresql(text):
    value = bounds.parse_datetime(text)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [value])
        assert cursor.fetchone()[0] == value


def test_number_bounds():
    assert bounds.decimal_limit(15, 2) == Decimal("9999999999999.99")
    assert bounds.number_error(Decimal("9999999999999.99"), max_digits=15, decimal_places=2) is None
    assert "9,999,999,999,999.99" in bounds.number_error(Decimal("10000000000000"), max_digits=15, decimal_places=2)
    assert bounds.number_error(Decimal("9999999999999.995"), max_digits=15, decimal_places=2)  # rounds over
    assert bounds.number_error(Decimal("1e400"), max_digits=15, decimal_places=2)
    assert bounds.number_error(2**31, integer_range=bounds.INTEGER_RANGES["IntegerField"])
    assert bounds.number_error(2**31, integer_range=bounds.INTEGER_RANGES["BigIntegerField"]) is None


@pytest.mark.django_db
def test_the_model_guard_refuses_a_row_the_database_cannot_hold():
    from profiles.tests.factories import make_budget

    budget = make_budget()
    budget.amount_spent = Decimal("10000000000000")
    budget.name = "Q\x00"
    with pytest.raises(ValidationError) as info:
        budget.save()
    assert set(info.value.message_dict) == {"amount_spent", "name"}
    budget.refresh_from_db()
    budget.amount_spent = Decimal("10000000000000")
    budget.save(update_fields=["name"])  # fields not written are not checked


# ---------------------------------------------------------------------- strict input


class Example(StrictSerializer):
    aliases = {"customer_profile_id": "customer_profile", "gone_id": "gone"}
    customer_profile = serializers.IntegerField(required=False)
    marketing_opt_in = serializers.BooleanField(required=False)
    created = serializers.DateTimeField(required=False)
    count = serializers.IntegerField(required=False)
    total = serializers.IntegerField(required=False, max_value=10**12)
    id = serializers.IntegerField(read_only=True)


def test_suggestions():
    assert suggestion("customer_profile_id", ["customer_profile", "name"]) == "customer_profile"
    assert suggestion("marketing_optin", ["marketing_opt_in", "name"]) == "marketing_opt_in"
    assert suggestion("Email", ["email"]) == "email"
    assert suggestion("amount", ["product", "reward_item"]) is None


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"customer_profile_idd": 1}, {"customer_profile_idd": ["Unknown field. Did you mean customer_profile?"]}),
        ({"marketing_optin": True}, {"marketing_optin": ["Unknown field. Did you mean marketing_opt_in?"]}),
        ({"zzz": 1}, {"zzz": ["Unknown field."]}),
        ({"id": 3}, {"id": ["This field is read-only: it cannot be set here."]}),
        (
            {"customer_profile": 1, "customer_profile_id": 1},
            {
                "customer_profile_id": [
                    "Send either customer_profile or customer_profile_id (its other name), not both."
                ]
            },
        ),
        ({"gone_id": 1}, {"gone_id": ["Unknown field."]}),  # an alias of a field the serializer lacks
        ({"count": 2**31}, {"count": ["Ensure this value is less than or equal to 2147483647."]}),
        ({"created": "0001-01-01T00:00:00Z"}, {"created": ["Enter a date between the years 1 and 9999."]}),
    ],
)
def test_strict_serializers_refuse_what_they_would_drop(data, errors):
    serializer = Example(data=data)
    assert not serializer.is_valid()
    assert serializer.errors == errors


def test_aliases_and_explicit_bounds_are_kept():
    serializer = Example(data={"customer_profile_id": 7, "total": 10**11, "created": "2026-01-01T00:00:00+15:00"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["customer_profile"] == 7 and serializer.validated_data["total"] == 10**11


def test_nested_strict_serializers_report_the_path():
    class Outer(StrictSerializer):
        inner = Example(many=True)

    serializer = Outer(data={"inner": [{"count": 1}, {"cuont": 2}]})
    assert not serializer.is_valid()
    assert serializer.errors == {"inner": {1: {"cuont": ["Unknown field. Did you mean count?"]}}}


# ------------------------------------------------------------------------ middleware


def run_middleware(request):
    return StorableInputMiddleware(lambda r: "passed")(request)


def test_json_bodies_are_scanned_only_when_they_may_hold_a_nul():
    factory = RequestFactory()
    clean = factory.post("/api/v1/x/", data=json.dumps({"a": "\\u0000 as text"}), content_type="application/json")
    assert run_middleware(clean) == "passed"  # an escaped backslash: the text "\u0000", not NUL
    broken = factory.post("/api/v1/x/", data='{"a": "\\u0000"', content_type="application/json")
    assert run_middleware(broken) == "passed"  # not JSON: the parser answers
    bad = factory.post("/api/v1/x/", data='{"a": {"b": "\\u0000"}}', content_type="application/json")
    response = run_middleware(bad)
    assert response.status_code == 400 and json.loads(response.content)["error"]["fields"] == {
        "a.b": [bounds.NUL_MESSAGE]
    }


def test_a_database_refusal_that_slipped_through_is_a_400_not_a_500():
    request = RequestFactory().get("/api/v1/x/")
    response = StorableInputMiddleware(lambda r: None).process_exception(request, DataError("numeric field overflow"))
    assert response.status_code == 400 and json.loads(response.content)["error"]["code"] == "out_of_range"


# ---------------------------------------------------------------------- OpenAPI schema


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return json.loads(Client().get("/api/schema/?format=json").content)


def test_one_tag_per_app_each_described(schema):
    tags = {tag["name"]: tag["description"] for tag in schema["tags"]}
    assert set(tags) == {"accounts", "engagement", "experiments", "rewards", "profiles", "integrations"}
    used = {tag for item in schema["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    assert used <= set(tags) and "v1" not in used


def test_error_responses_carry_their_own_examples(schema):
    operation = schema["paths"]["/api/v1/profile-containers/{id}/"]["patch"]
    codes = {code: response for code, response in operation["responses"].items() if code.startswith("4")}
    assert set(codes) == {"400", "401", "403", "404", "409", "413", "429"}
    examples = {
        code: next(iter(r["content"]["application/json"]["examples"].values()))["value"]["error"]["code"]
        for code, r in codes.items()
    }
    assert examples == {
        "400": "invalid",
        "401": "not_authenticated",
        "403": "permission_denied",
        "404": "not_found",
        "409": "conflict",
        "413": "too_large",
        "429": "throttled",
    }
    public_read = schema["paths"]["/api/v1/assessments/big-five/inventory/"]["get"]["responses"]
    assert "403" not in public_read and "404" not in public_read and "413" not in public_read


def test_lists_state_their_pagination(schema):
    def description(path):
        return schema["paths"][path]["get"]["description"]

    assert "Pagination: cursor" in description("/api/v1/customers/")
    assert "Pagination: page number" in description("/api/v1/brands/")
    assert "Not paginated" in description("/api/v1/channels/")


def test_request_bodies_are_strict_and_links_reach_the_created_record(schema):
    components = schema["components"]["schemas"]
    container_input = components["ContainerInputRequest"]
    assert container_input["additionalProperties"] is False
    assert "`customer_profile_id` for `customer_profile`" in container_input["description"]
    assert set(container_input["required"]) >= {"account_id", "name"}
    assert components["CustomerProfileInputRequest"]["properties"]["demographics"]["type"] == "object"
    links = schema["paths"]["/api/v1/profile-containers/"]["post"]["responses"]["201"]["links"]
    assert links["v1_profile_containers_retrieve"]["parameters"] == {"id": "$response.body#/id"}
    experiment_links = schema["paths"]["/api/v1/experiments/"]["post"]["responses"]["201"]["links"]
    assert experiment_links["v1_experiments_start_create"]["parameters"] == {"key": "$response.body#/key"}
