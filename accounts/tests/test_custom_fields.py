"""Custom fields: definitions validated by JSON Schema, values validated by type (service and database)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import custom_fields
from accounts.models import Brand, CustomField, CustomFieldValue
from accounts.tests.factories import BrandFactory, CustomerFactory


@pytest.fixture
def brand(db):
    return Brand.objects.get(slug="focusedroom")


@pytest.fixture
def fields(brand):
    return {
        "job": CustomField.objects.create(
            brand=brand, field_key="job", field_label="Job title", field_type="text", field_order=1
        ),
        "time": CustomField.objects.create(
            brand=brand,
            field_key="time",
            field_label="Best time to focus",
            field_type="select",
            field_options=["Morning", "Evening"],
            is_required=True,
            field_order=2,
        ),
        "style": CustomField.objects.create(
            brand=brand,
            field_key="style",
            field_label="Learning style",
            field_type="radio",
            field_options=["Reading", "Listening"],
            field_order=3,
        ),
        "terms": CustomField.objects.create(
            brand=brand,
            field_key="terms",
            field_label="I accept the programme rules",
            field_type="checkbox",
            is_required=True,
            field_order=4,
        ),
        "news": CustomField.objects.create(
            brand=brand, field_key="news", field_label="Weekly digest", field_type="checkbox", field_order=5
        ),
    }


VALID = {"job": "Pilot", "time": "Morning", "style": "Reading", "terms": True, "news": False}


@pytest.mark.django_db
class TestDefinitions:
    @pytest.mark.parametrize(
        "options",
        [None, [], "Morning", [1, 2], ["A", "A"], [""], ["x" * 256], [{"value": "A"}]],
        ids=["none", "empty", "string", "numbers", "duplicates", "blank", "too-long", "objects"],
    )
    def test_choice_options_must_match_the_schema(self, options):
        with pytest.raises(ValidationError) as info:
            custom_fields.custom_field_options_clean(field_type="select", options=options)
        assert set(info.value.message_dict) == {"field_options"}

    def test_text_and_checkbox_take_no_options(self):
        assert custom_fields.custom_field_options_clean(field_type="text", options=None) is None
        with pytest.raises(ValidationError):
            custom_fields.custom_field_options_clean(field_type="checkbox", options=["a"])
        assert custom_fields.custom_field_options_clean(field_type="radio", options=["a", "b"]) == ["a", "b"]

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"field_type": "select", "field_options": None},
            {"field_type": "text", "field_options": ["a"]},
            {"field_type": "date"},
            {"field_type": "text", "field_key": "Bad Key"},
        ],
        ids=["select-without-options", "text-with-options", "unknown-type", "bad-key"],
    )
    def test_database_refuses_bad_definitions(self, brand, kwargs):
        values = {"brand": brand, "field_key": "k", "field_label": "K", **kwargs}
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomField.objects.create(**values)

    def test_key_is_unique_per_brand(self, brand):
        CustomField.objects.create(brand=brand, field_key="k", field_label="K", field_type="text")
        CustomField.objects.create(brand=BrandFactory(), field_key="k", field_label="K", field_type="text")
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomField.objects.create(brand=brand, field_key="k", field_label="K2", field_type="text")


@pytest.mark.django_db
class TestValues:
    def test_valid_answers_are_stored_typed(self, brand, fields):
        user = CustomerFactory()
        answers = custom_fields.custom_field_values_set(user=user, brand=brand, values=VALID)
        assert {a.key: a.value for a in answers} == VALID
        stored = dict(CustomFieldValue.objects.filter(user=user).values_list("custom_field__field_key", "field_value"))
        assert stored == {"job": "Pilot", "time": "Morning", "style": "Reading", "terms": "true", "news": "false"}

    @pytest.mark.parametrize(
        ("change", "key", "message"),
        [
            ({"job": "x" * 1001}, "job", "At most 1000 characters."),
            ({"job": 42}, "job", "Must be a string."),
            ({"time": "Noon"}, "time", "Choose one of: Morning, Evening."),
            ({"time": ""}, "time", "This field is required."),
            ({"style": "Watching"}, "style", "Choose one of: Reading, Listening."),
            ({"terms": False}, "terms", "This box must be checked."),
            ({"news": "maybe"}, "news", "Must be true or false."),
            ({"unknown": "x"}, "unknown", "Unknown field."),
        ],
    )
    def test_each_type_is_validated_and_nothing_is_written(self, brand, fields, change, key, message):
        user = CustomerFactory()
        with pytest.raises(ValidationError) as info:
            custom_fields.custom_field_values_set(user=user, brand=brand, values={**VALID, **change})
        assert info.value.message_dict == {key: [message]}
        assert not CustomFieldValue.objects.filter(user=user).exists()

    def test_put_replaces_answers_and_blank_text_clears(self, brand, fields):
        user = CustomerFactory()
        custom_fields.custom_field_values_set(user=user, brand=brand, values=VALID)
        custom_fields.custom_field_values_set(user=user, brand=brand, values={**VALID, "job": "", "style": None})
        keys = set(CustomFieldValue.objects.filter(user=user).values_list("custom_field__field_key", flat=True))
        assert keys == {"time", "terms", "news"}

    def test_inactive_fields_are_hidden_and_not_accepted(self, brand, fields):
        fields["job"].is_active = False
        fields["job"].save()
        user = CustomerFactory()
        assert "job" not in {a.key for a in custom_fields.custom_fields_for(user=user, brand=brand)}
        with pytest.raises(ValidationError) as info:
            custom_fields.custom_field_values_set(user=user, brand=brand, values=VALID)
        assert info.value.message_dict == {"job": ["Unknown field."]}

    @pytest.mark.parametrize(
        ("key", "value"),
        [("time", "Noon"), ("style", "Watching"), ("terms", "yes"), ("job", "x" * 1001)],
    )
    def test_database_refuses_values_that_do_not_match_the_type(self, fields, key, value):
        user = CustomerFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomFieldValue.objects.create(user=user, custom_field=fields[key], field_value=value)

    def test_one_value_per_person_and_field(self, fields):
        user = CustomerFactory()
        CustomFieldValue.objects.create(user=user, custom_field=fields["job"], field_value="A")
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomFieldValue.objects.create(user=user, custom_field=fields["job"], field_value="B")


@pytest.mark.django_db
class TestApi:
    def test_get_and_put_for_the_default_brand(self, member_client, fields):
        empty = member_client.get("/api/v1/me/custom-fields/")
        assert empty.status_code == 200
        body = empty.json()
        assert body["brand"] == "focusedroom"
        assert [f["key"] for f in body["fields"]] == ["job", "time", "style", "terms", "news"]
        assert body["fields"][1] == {
            "key": "time",
            "label": "Best time to focus",
            "type": "select",
            "options": ["Morning", "Evening"],
            "required": True,
            "value": None,
        }
        saved = member_client.put("/api/v1/me/custom-fields/", VALID, format="json")
        assert saved.status_code == 200
        assert {f["key"]: f["value"] for f in saved.json()["fields"]} == VALID

    def test_put_errors_are_field_level_400s(self, member_client, fields):
        response = member_client.put(
            "/api/v1/me/custom-fields/", {**VALID, "time": "Noon", "terms": False}, format="json"
        )
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"time", "terms"}
        not_an_object = member_client.put("/api/v1/me/custom-fields/", ["x"], format="json")
        assert not_an_object.status_code == 400

    def test_other_brand_and_unknown_brand(self, member_client, fields):
        other = BrandFactory(slug="calm-co")
        CustomField.objects.create(brand=other, field_key="pet", field_label="Pet", field_type="text")
        response = member_client.get("/api/v1/me/custom-fields/?brand=calm-co")
        assert response.status_code == 200
        assert [f["key"] for f in response.json()["fields"]] == ["pet"]
        assert member_client.get("/api/v1/me/custom-fields/?brand=nope").status_code == 404

    def test_anonymous_is_401(self, fields):
        assert APIClient().get("/api/v1/me/custom-fields/").status_code == 401

    def test_query_count_does_not_grow_with_fields(self, member_client, member, brand, django_assert_max_num_queries):
        def add(start, count):
            for i in range(start, start + count):
                field = CustomField.objects.create(
                    brand=brand, field_key=f"f{i}", field_label=f"F{i}", field_type="text"
                )
                CustomFieldValue.objects.create(user=member, custom_field=field, field_value="v")

        add(0, 1)
        with CaptureQueriesContext(connection) as few:
            assert member_client.get("/api/v1/me/custom-fields/").status_code == 200
        add(1, 30)
        # 1 of them is the throttle's counter, 2 are brand and fields
        with django_assert_max_num_queries(len(few)):
            response = member_client.get("/api/v1/me/custom-fields/")
        assert len(response.json()["fields"]) == 31 and len(few) <= 3


@pytest.mark.django_db
class TestAccountPage:
    def test_panel_shows_and_saves(self, client, member, fields):
        client.force_login(member)
        page = client.get("/account/")
        assert page.status_code == 200
        content = page.content.decode()
        assert "Best time to focus" in content and 'for="id_cf-time' in content
        assert 'action="/account/custom-fields/?brand=focusedroom"' in content

        saved = client.post(
            "/account/custom-fields/?brand=focusedroom",
            {"cf-job": "Pilot", "cf-time": "Evening", "cf-style": "Listening", "cf-terms": "on"},
        )
        assert saved.status_code == 302 and saved["Location"] == "/account/?brand=focusedroom"
        answers = {a.key: a.value for a in custom_fields.custom_fields_for(user=member, brand=fields["job"].brand)}
        assert answers == {"job": "Pilot", "time": "Evening", "style": "Listening", "terms": True, "news": False}
        assert 'value="Pilot"' in client.get("/account/").content.decode()

    def test_errors_are_shown_next_to_fields(self, client, member, fields):
        client.force_login(member)
        response = client.post("/account/custom-fields/", {"cf-job": "Pilot", "cf-time": "Noon"})
        assert response.status_code == 400
        content = response.content.decode()
        assert content.count("field-invalid") == 2  # time (not an option) and terms (must be checked)
        assert not CustomFieldValue.objects.filter(user=member).exists()

    def test_brand_parameter_and_unknown_brand(self, client, member, fields):
        BrandFactory(slug="calm-co", name="Calm Co")
        client.force_login(member)
        assert client.get("/account/?brand=nope").status_code == 404
        other = client.get("/account/?brand=calm-co")
        assert other.status_code == 200 and b"Best time to focus" not in other.content


@pytest.mark.django_db
def test_demo_custom_fields_are_idempotent_and_valid(brand):
    from accounts.demo import DEMO_CUSTOM_FIELDS, seed_custom_fields

    assert seed_custom_fields() == seed_custom_fields() == len(DEMO_CUSTOM_FIELDS)
    assert CustomField.objects.filter(brand=brand).count() == len(DEMO_CUSTOM_FIELDS)
    for field in CustomField.objects.filter(brand=brand):
        custom_fields.custom_field_options_clean(field_type=field.field_type, options=field.field_options)
