"""The submit service: customers, report numbering, anonymous tests, constraints, signal, query budget."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import CustomerFactory
from engagement import selectors, services, signals
from engagement.models import Event, QuizResult
from engagement.tests.helpers import answers, fake_request, random_answers, submit
from focusedroom.context import RequestContext
from focusedroom.delivery import DeliveryIncomplete

pytestmark = pytest.mark.django_db


def test_new_customer_gets_channel_1_and_report_1():
    result = submit(
        email="  New.Person@Example.COM ",
        name="Ada Lovelace",
        age=36,
        career_stage="senior",
        purpose="Lead my team better",
        sex="F",
        opt_in=True,
        request=fake_request(),
    )
    user = User.objects.get(email="new.person@example.com")
    assert (result.customer, result.report_id, result.quiz_type) == (user, 1, "big_five")
    assert (user.channel_id, user.name, user.age, user.career_stage) == (1, "Ada Lovelace", 36, "senior")
    # An address nobody has proven: the test never switches consent on (the verification link offers it).
    assert not user.marketing_opt_in and user.marketing_opt_in_at is None
    assert result.quiz_metadata["marketing_opt_in"] is True  # what was asked is kept with the test
    assert not user.has_usable_password()
    assert result.norm_group == "F_21_40" and result.scores["norm_group"]["id"] == "F_21_40"
    assert result.first_name == "Ada" and result.sex == "F" and result.age == 36
    assert result.ip_address == "203.0.113.7" and result.device_type == "desktop"
    assert len(result.public_id) >= 22
    assert "Ada, here is your profile." in result.suggestions
    assert set(result.questions_and_answers) == set(answers())
    assert result.quiz_metadata["anonymous_id"] == "visitor1234"


def test_returning_customer_is_not_duplicated_and_report_id_increments():
    first = submit(email="back@example.com", name="Bo", age=30)
    second = submit(email="BACK@example.com", profession="Nurse")
    third = submit(email="back@Example.com")
    assert User.objects.filter(email="back@example.com").count() == 1
    assert [first.report_id, second.report_id, third.report_id] == [1, 2, 3]
    user = User.objects.get(email="back@example.com")
    # Demographics: given values update, blanks never erase.
    assert (user.name, user.age, user.profession) == ("Bo", 30, "Nurse")
    # Not logged in, a test uses only what it was given: nothing stored about the person shows in it.
    assert third.age is None and third.norm_group == "all_all" and third.first_name == ""


def test_existing_customer_from_another_channel_keeps_it():
    person = CustomerFactory(email="ebook@example.com", channel_id=2)
    result = submit(email="ebook@example.com")
    person.refresh_from_db()
    assert person.channel_id == 2 and result.report_id == 1


def test_opt_in_is_never_withdrawn_by_a_test():
    CustomerFactory(email="consent@example.com", marketing_opt_in=True)
    submit(email="consent@example.com", opt_in=False)
    assert User.objects.get(email="consent@example.com").marketing_opt_in is True


def test_anonymous_test_has_no_customer_and_no_report_id():
    before = User.objects.count()
    result = submit(sex="M", age=25, name="Anon Person")
    assert result.customer is None and result.report_id is None
    assert User.objects.count() == before
    assert result.norm_group == "M_21_40" and result.first_name == "Anon"


def test_signal_and_event_are_sent_after_storing(django_capture_on_commit_callbacks):
    """By the worker's task, after the commit (eager in tests: at commit)."""
    seen = []

    def receiver(sender, result, user, anonymous_id, context, **kwargs):
        seen.append((sender, QuizResult.objects.filter(pk=result.pk).exists(), user, anonymous_id, context.ip))

    signals.quiz_completed.connect(receiver)
    try:
        request = fake_request()
        with django_capture_on_commit_callbacks(execute=True):
            result = submit(email="signal@example.com", request=request)
            assert seen == [] and not Event.objects.filter(event_type="quiz_completed").exists()
        with django_capture_on_commit_callbacks(execute=True):
            anonymous = submit(request=request)
    finally:
        signals.quiz_completed.disconnect(receiver)
    assert seen[0] == (QuizResult, True, result.customer, "visitor1234", "203.0.113.7")
    assert seen[1][2] is None
    events = Event.objects.filter(event_type="quiz_completed").order_by("id")
    assert [e.metadata["public_id"] for e in events] == [result.public_id, anonymous.public_id]
    assert events[0].user == result.customer and events[1].anonymous_id == "visitor1234"
    assert request.visitor_id_used  # the visitor cookie gets set


def test_a_failing_receiver_keeps_the_submission_and_the_other_effects(django_capture_on_commit_callbacks):
    """The submission is stored before any receiver runs; a failing receiver fails its job (retried),
    never the submission nor the other receivers."""

    def boom(**kwargs):
        raise RuntimeError("receiver failed")

    signals.quiz_completed.connect(boom)
    try:
        with pytest.raises(DeliveryIncomplete), django_capture_on_commit_callbacks(execute=True):
            result = submit(email="rollback@example.com")
    finally:
        signals.quiz_completed.disconnect(boom)
    result = QuizResult.objects.get(customer__email="rollback@example.com")
    assert Event.objects.filter(event_type="quiz_completed", metadata__result_id=result.pk).exists()


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"answers": {"N1-1": 3}}, "answers"),
        ({"answers": {**answers(), "N1-1": 7}}, "answers"),
        ({"answers": {**answers(), "Q999": 3}}, "answers"),
        ({"age": 12}, "age"),
        ({"age": 121}, "age"),
        ({"email": "not-an-email"}, "email"),
        ({"sex": "X"}, "sex"),
        ({"career_stage": "astronaut"}, "career_stage"),
        ({"session_identifier": "nope"}, "session_identifier"),
        ({"experiment_data": ["a"]}, "experiment_data"),
    ],
)
def test_invalid_input_is_rejected_and_nothing_is_stored(fields, error_field):
    with pytest.raises(ValidationError) as exc:
        submit(email="valid@example.com", **fields) if "email" not in fields else submit(**fields)
    assert error_field in exc.value.message_dict
    assert not QuizResult.objects.exists() and not User.objects.filter(email="valid@example.com").exists()


def test_all_errors_are_reported_at_once():
    with pytest.raises(ValidationError) as exc:
        submit(answers={}, email="bad", age=7)
    assert {"answers", "email", "age"} <= set(exc.value.message_dict)


def test_record_gems():
    from engagement.services import quiz_result_record_gems

    result = submit()
    quiz_result_record_gems(result=result, gems=25)
    result.refresh_from_db()
    assert result.earned_gems == 25
    with pytest.raises(ValidationError):
        quiz_result_record_gems(result=result, gems=-1)


def test_session_identifier_and_tracking_are_stored():
    session = uuid.uuid4()
    result = submit(
        session_identifier=str(session),
        tracking={"utm_source": "news", "referrer": "https://x.test/"},
        experiment_data={"landing": "B"},
    )
    assert result.session_identifier == session
    assert (result.utm_source, result.referrer, result.experiment_data) == ("news", "https://x.test/", {"landing": "B"})


# --------------------------------------------------------------------------- database constraints


def _row(**overrides):
    base = {"result_type": "t", "questions_and_answers": {}, "scores": {}}
    return QuizResult(**{**base, **overrides})


def test_database_rejects_duplicate_report_ids():
    user = CustomerFactory()
    _row(customer=user, report_id=1).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(customer=user, report_id=1).save()


@pytest.mark.parametrize(
    "overrides",
    [
        {"report_id": 0},
        {"report_id": None},
        {"customer": None, "report_id": 1},
        {"quiz_version": "v1"},
        {"quiz_type": "tarot"},
        {"earned_gems": -5},
        {"sex": "Q"},
        {"age": 9},
    ],
)
def test_database_checks(overrides):
    user = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(**{"customer": user, "report_id": 1, **overrides}).save()


def test_database_accepts_anonymous_without_report_id():
    row = _row(customer=None, report_id=None, quiz_version="1.0.2")
    row.save()
    assert QuizResult.objects.filter(pk=row.pk, customer__isnull=True, report_id__isnull=True).exists()


# --------------------------------------------------------------------------- other generators and selectors


def test_a_generator_that_only_writes_text_is_stored_as_one_block():
    class TextOnly:
        def generate(self, *, scores, person):
            return f"Hello {person.first_name}, you are {scores['levels']['O']} in openness."

    data = services.bigfive_clean(answers=answers(3), name="Ada Lovelace")
    result = services.bigfive_submit(data=data, context=RequestContext.system(), generator=TextOnly())
    assert result.suggestions == f"Hello Ada, you are {result.scores['levels']['O']} in openness."
    assert result.result_details == {"insights": {"generator": "TextOnly", "domains": {}, "suggestions": []}}


def test_selectors_of_a_persons_results():
    first = submit(email="again@example.com")
    second = submit(email="again@example.com")
    user = first.customer
    assert list(selectors.quiz_results_of_person(user=user)) == [first, second]
    assert selectors.quiz_result_count_of_person(user=user) == 2
    assert selectors.quiz_result_latest_of_person(user=user) == second
    assert selectors.quiz_result_previous(result=second) == first
    assert selectors.quiz_result_previous(result=first) is None


# --------------------------------------------------------------------------- query budget


def _count_queries(**fields):
    with CaptureQueriesContext(connection) as ctx:
        submit(request=fake_request(), **fields)
    return len(ctx.captured_queries)


def test_submit_runs_a_constant_number_of_queries():
    new_customer = _count_queries(email="budget@example.com", answers=random_answers(1))
    second = _count_queries(email="budget@example.com", answers=random_answers(2))
    for seed in range(3, 10):
        submit(email="budget@example.com", answers=random_answers(seed))
    tenth = _count_queries(email="budget@example.com", answers=random_answers(11))
    anonymous = _count_queries(answers=random_answers(12))
    assert second == tenth  # independent of the customer's history
    # The other apps react in a worker: the submission writes the person, the result and one job.
    assert new_customer <= 8 and max(second, anonymous) <= 12
