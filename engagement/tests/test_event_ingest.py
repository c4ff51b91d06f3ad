"""The event log's write path: the compiled validator agrees with the JSON Schema, ids come from
the sequence in the batch's order, and a batch is one COPY (nothing stored when it fails)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement import event_log
from engagement.models import Event
from focusedroom.errors import ApplicationError

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2_000_000, max_value=2_000_000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=70),
    st.from_regex(r"^[a-z][a-z0-9_.:-]{0,63}$", fullmatch=True),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
)
events = st.dictionaries(st.sampled_from([*event_log.EVENT_SCHEMA["properties"], "surprise"]), values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(item=events)
def test_the_compiled_validator_refuses_what_the_schema_refuses(item):
    """Whatever jsonschema refuses, the compiled validator refuses, and a refusal always names a field."""
    import fastjsonschema

    explained: dict[str, list[str]] = {}
    event_log._explain(0, item, explained)
    try:
        event_log._FAST_VALIDATE(item)
        fast_ok = True
    except fastjsonschema.JsonSchemaValueException:
        fast_ok = False
    if explained:
        assert not fast_ok, (item, explained)
    errors: dict[str, list[str]] = {}
    event_log._schema_errors(0, item, errors)
    assert bool(errors) == (not fast_ok)
    assert all(key.startswith("0") for key in errors)


def test_a_newline_after_the_event_type_is_refused_with_a_field_message():
    errors: dict[str, list[str]] = {}
    event_log._schema_errors(3, {"event_type": "page_viewed\n"}, errors)
    assert list(errors) == ["3.event_type"]


@pytest.mark.django_db
def test_ids_follow_the_batch_and_the_rows_are_as_sent(member):
    batch = [
        {"event_type": "a", "metadata": {"i": 0}},
        {"event_type": "b", "page_url": "https://x.test/\\t\ttab", "session_identifier": "s"},
        {"event_type": "c", "metadata": {"quote": 'it\'s "here"\n'}},
    ]
    ids = event_log.events_ingest(payload=batch, actor=member, may_post_for_anyone=False)
    assert ids == sorted(ids) and len(set(ids)) == 3
    rows = {e.pk: e for e in Event.objects.filter(pk__in=ids)}
    assert [rows[i].event_type for i in ids] == ["a", "b", "c"]
    assert rows[ids[1]].page_url == "https://x.test/\\t\ttab" and rows[ids[1]].metadata == {}
    assert rows[ids[2]].metadata == {"quote": 'it\'s "here"\n'}
    assert {e.user_id for e in rows.values()} == {member.pk}
    later = event_log.events_ingest(payload={"event_type": "d"}, actor=member, may_post_for_anyone=False)
    assert later[0] > ids[-1]


@pytest.mark.django_db
def test_an_integral_float_is_an_integer_and_checked_like_one(member):
    with pytest.raises(ApplicationError) as refused:
        event_log.events_ingest(payload={"event_type": "a", "user": 999_999.0}, actor=member, may_post_for_anyone=True)
    assert refused.value.fields == {"0.user": ["Unknown person."]}
    ids = event_log.events_ingest(
        payload={"event_type": "a", "user": float(member.pk)}, actor=member, may_post_for_anyone=True
    )
    assert Event.objects.get(pk=ids[0]).user_id == member.pk
