"""The structured editors of the JSON documents: what they show, what they give back, what they keep."""

from __future__ import annotations

import json
from html import unescape

import pytest
from django import forms
from django.core.exceptions import ValidationError

from profiles.document_forms import SPECS, DocumentField, Submitted, fits, parse, split
from profiles.schemas import SCHEMAS
from profiles.tests.factories import BEHAVIOR, DEMOGRAPHICS, FULL_GUIDE, HIGH_LEVEL, PERSONA
from tests.console_forms import form_query


class Form(forms.Form):
    demographics = DocumentField(name="demographics")
    full_style_guide = DocumentField(name="full_style_guide", nullable=True)


def rendered(field: str, value) -> str:
    return Form(initial={field: value})[field].as_widget()


def posted(html: str):
    """What a browser sends for the widget's inputs, left as they are rendered."""
    return form_query(html)


@pytest.mark.parametrize(
    ("field", "document"),
    [
        ("demographics", DEMOGRAPHICS),
        ("behavior", BEHAVIOR),
        ("persona", PERSONA),
        ("high_level_guidelines", HIGH_LEVEL),
        ("full_style_guide", FULL_GUIDE),
        ("metadata", {"tags": ["demo"], "source": "demo", "notes": "Two\nlines"}),
    ],
)
def test_seed_documents_come_back_unchanged_when_nothing_is_edited(field, document):
    class OneForm(forms.Form):
        pass

    OneForm.base_fields[field] = DocumentField(name=field, nullable=field == "full_style_guide")
    html = OneForm(initial={field: document})[field].as_widget()
    form = OneForm(data=posted(html), initial={field: document})
    assert form.is_valid(), form.errors
    assert form.cleaned_data[field] == document
    assert not form.has_changed()


def test_every_documented_key_has_a_field():
    """The seed's keys (seed 003) each have an input, not only a JSON box."""
    html = rendered("demographics", DEMOGRAPHICS)
    for key in (
        "ageRange.min",
        "ageRange.max",
        "gender",
        "location.countries",
        "location.cities",
        "location.radius.latitude",
        "location.radius.radius",
        "location.radius.unit",
        "incomeRange.min",
        "incomeRange.max",
        "educationLevel",
    ):
        assert f'name="demographics.{key}"' in html, key
    assert 'value="San Francisco"' not in html and "San Francisco\nNew York</textarea>" in html  # one per line
    assert 'name="demographics.location.countries" id="id_demographics_location_countries" value="US, CA"' in html
    assert '<option value="bachelors" selected>Bachelors</option>' in html


def test_brand_colours_are_rows_with_a_swatch_from_their_hex():
    html = rendered("full_style_guide", FULL_GUIDE)
    assert 'name="full_style_guide.colorPalette.primary.0.hex"' in html and 'value="#0066CC"' in html
    assert '<rect width="18" height="18" rx="4" fill="#0066CC"/>' in html and "style=" not in html
    assert 'name="full_style_guide.colorPalette.primary.1.hex"' in html  # an empty row to add one
    assert 'name="full_style_guide.voiceGuidelines.messagingPillars.0.name"' in html
    assert 'name="full_style_guide.typographyGuidelines.primaryFont.family" id=' in html


def test_a_hex_that_is_not_a_colour_gets_no_swatch_style():
    html = rendered("full_style_guide", {"colorPalette": {"primary": [{"hex": "red;background:url(x)"}]}})
    assert "url(x)" in html  # shown in its box, escaped
    assert 'style="background:red' not in html


def test_keys_the_form_does_not_know_stay_in_the_json_box_and_are_saved():
    document = {**DEMOGRAPHICS, "householdSize": 3, "location": {**DEMOGRAPHICS["location"], "zip": ["94103"]}}
    html = rendered("demographics", document)
    assert "Show JSON" in html and "<details" in html and " open>" in html  # opened: it holds something
    extra = json.loads(unescape(html.split('name="demographics__json"')[1].split(">", 1)[1].split("</textarea>")[0]))
    assert extra == {"householdSize": 3, "location": {"zip": ["94103"]}}
    form = Form(data=posted(html), initial={"demographics": document})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["demographics"] == document


def test_values_the_form_cannot_show_unchanged_stay_in_the_json_box():
    document = {"gender": "robot", "ageRange": {"min": 20.5}, "languages": ["en, fr"], "occupations": []}
    shown, rest = split(SPECS["demographics"], document)
    assert shown == {} and rest == document
    assert not fits(SPECS["behavior"].parts[0], ["desktop", "mobile"])  # not in the choices' order


def test_typed_values_become_the_document():
    data = {
        "demographics.ageRange.min": "25",
        "demographics.ageRange.max": " 40 ",
        "demographics.gender": "female",
        "demographics.location.countries": "us, ca,",
        "demographics.location.cities": "Lisbon\r\n\r\nPorto\r\n",
        "demographics.location.radius.latitude": "38.72",
        "demographics.incomeRange.min": "",
        "demographics__json": "",
    }
    form = Form(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["demographics"] == {
        "ageRange": {"min": 25, "max": 40},
        "gender": "female",
        "location": {"countries": ["US", "CA"], "cities": ["Lisbon", "Porto"], "radius": {"latitude": 38.72}},
    }
    assert form.cleaned_data["full_style_guide"] is None  # an optional document left empty is none


def test_unreadable_inputs_are_named_by_their_path():
    form = Form(data={"demographics.ageRange.min": "twenty", "demographics__json": "{nope"})
    assert not form.is_valid()
    messages = form.errors["demographics"]
    assert any(m.startswith("demographics.ageRange.min: enter a whole number") for m in messages)
    assert any(m.startswith("demographics (other keys, JSON): Expecting property name") for m in messages)
    html = form["demographics"].as_widget()
    assert 'value="twenty"' in html and "{nope</textarea>" in html  # shown again as typed


def test_the_json_box_must_hold_an_object():
    with pytest.raises(ValidationError, match="write a JSON object"):
        parse(SPECS["persona"], Submitted(extra="[1, 2]"), name="persona")


def test_rows_are_read_by_their_index_and_empty_rows_dropped():
    data = {
        "full_style_guide.colorPalette.accent.0.name": "Sun",
        "full_style_guide.colorPalette.accent.0.hex": "#FFCC00",
        "full_style_guide.colorPalette.accent.0.usage": "",
        "full_style_guide.colorPalette.accent.1.name": " ",
        "full_style_guide.colorPalette.accent.1.hex": "",
        "full_style_guide.colorPalette.accent.1.usage": "",
        "full_style_guide.colorPalette.accent.7.hex": "#000",
    }
    form = Form(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["full_style_guide"] == {
        "colorPalette": {"accent": [{"name": "Sun", "hex": "#FFCC00"}, {"hex": "#000"}]}
    }


def test_every_choice_list_comes_from_the_json_schema():
    """One list of allowed values: the schema's. The form offers exactly those."""
    assert [c for c, _ in SPECS["demographics"].parts[2].choices] == SCHEMAS["demographics"]["properties"]["gender"][
        "enum"
    ]
    devices = next(p for p in SPECS["behavior"].parts if p.key == "devicePreferences")
    assert [c for c, _ in devices.choices] == SCHEMAS["behavior"]["properties"]["devicePreferences"]["items"]["enum"]
    assert ("tv", "TV") in devices.choices
