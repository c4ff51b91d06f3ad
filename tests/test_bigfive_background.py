"""The Big Five submission: the request writes the person, the result and one job; a worker applies
every other app's reaction, exactly once, even when a receiver fails and the job is retried."""

from __future__ import annotations

import json

from django.core import mail
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from engagement import signals as engagement_signals
from engagement.models import Event, QuizResult
from engagement.tests.helpers import random_answers
from experiments import services as experiment_services
from focusedroom import tasks
from focusedroom.context import VISITOR_COOKIE
from integrations.models import OutboxMessage
from rewards.models import LedgerEntry, Wallet

URL = "/api/v1/assessments/big-five/"
# Statements of a new customer's request: 81 before the work moved to the worker (40 of them
# savepoints). Now the submission itself is BEGIN, person_identify's savepoint with the person's
# insert in its own (the one that recovers from a parallel insert), the result, the job and COMMIT;
# the rest are the anonymous and user throttles' cache statements.
SUBMISSION_STATEMENTS = 9
NEW_CUSTOMER_STATEMENTS = 24


def _submit(client: APIClient | None = None, email: str = "new.person@example.com", **extra):
    response = (client or APIClient()).post(
        URL, {"answers": random_answers(3), "email": email, "age": 30, "sex": "F", **extra}, format="json"
    )
    assert response.status_code == 201, response.content
    return QuizResult.objects.get(public_id=response.json()["id"])


def _todo() -> list[str]:
    return list(ProcrastinateJob.objects.filter(status="todo").order_by("id").values_list("task_name", flat=True))


def _effects(result: QuizResult) -> dict:
    user = result.customer
    return {
        "ledger": sorted(LedgerEntry.objects.filter(wallet__user=user).values_list("reason", "amount")),
        "outbox": sorted(OutboxMessage.objects.filter(user=user).values_list("action", "event_name")),
        "events": Event.objects.filter(event_type="quiz_completed", metadata__result_id=result.pk).count(),
        "emails": [m.to for m in mail.outbox],
        "earned_gems": QuizResult.objects.get(pk=result.pk).earned_gems,
    }


def _make_due() -> None:
    """A retried job waits (exponential back-off); the test does not."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")


def test_the_request_writes_the_person_the_result_and_one_job(task_queue, django_assert_max_num_queries):
    with django_assert_max_num_queries(NEW_CUSTOMER_STATEMENTS) as request:
        result = _submit()
    statements = [q["sql"] for q in request.captured_queries]
    person = next(i for i, sql in enumerate(statements) if sql.startswith('INSERT INTO "accounts_user"'))
    begin = max(i for i in range(person) if statements[i] == "BEGIN")
    submission = statements[begin : statements.index("COMMIT", person) + 1]
    assert len(submission) <= SUBMISSION_STATEMENTS, submission
    assert sum(1 for sql in submission if sql.startswith("SAVEPOINT")) == 2
    assert any("procrastinate_defer_jobs" in sql for sql in submission)
    assert result.customer is not None and result.report_id == 1
    assert _todo() == ["engagement.result_recorded"]
    args = json.dumps(ProcrastinateJob.objects.get().args)
    assert "127.0.0.1" not in args and result.quiz_metadata["anonymous_id"] not in args  # the context travels sealed
    assert not Wallet.objects.filter(user=result.customer).exists()
    assert not OutboxMessage.objects.exists() and not Event.objects.filter(event_type="quiz_completed").exists()
    assert mail.outbox == []

    tasks.run_jobs()

    effects = _effects(result)
    assert [reason for reason, _ in effects["ledger"]] == ["quiz_completed", "welcome"]
    assert ("identify", "identify") in effects["outbox"] and ("event", "big_five_completed") in effects["outbox"]
    assert effects["events"] == 1
    assert effects["emails"] == [["new.person@example.com"]]  # the verification link, sent by a worker
    assert effects["earned_gems"] > 0
    event = Event.objects.get(event_type="quiz_completed", metadata__result_id=result.pk)
    assert event.created_at == result.created_at and event.ip_address  # dated and placed as the submission
    assert _todo() == []


def test_a_failing_receiver_is_retried_alone_and_every_effect_happens_once(task_queue):
    calls, others_applied_before_retry = [], []

    def flaky(sender, *, result, **kwargs):
        calls.append(result.pk)
        if len(calls) <= 2:  # fails with the others, then on its own: the job fails
            raise RuntimeError("the provider is down")
        others_applied_before_retry.append(LedgerEntry.objects.filter(wallet__user=result.customer).count())

    engagement_signals.quiz_completed.connect(flaky, dispatch_uid="tests.flaky")
    try:
        result = _submit()
        for _ in range(5):  # the failed attempt, then its retry (made due at once)
            tasks.run_jobs()
            _make_due()
        job = ProcrastinateJob.objects.get(task_name="engagement.result_recorded")
        assert job.status == "succeeded" and job.attempts == 2  # failed once, not swallowed: retried
        assert calls == [result.pk] * 3
        assert others_applied_before_retry == [2]  # the other receivers did not wait for the failing one
        first = _effects(result)
        assert first["ledger"] == [("quiz_completed", 25), ("welcome", 100)]
        assert first["events"] == 1 and first["emails"] == [["new.person@example.com"]]  # exactly once each
        assert len([o for o in first["outbox"] if o == ("event", "big_five_completed")]) == 1

        # The same job queued again (a worker lost after its work committed): nothing happens twice.
        tasks.defer("engagement.result_recorded", **job.args)
        tasks.run_jobs()
        assert len(calls) == 3
        assert _effects(result) == first
    finally:
        engagement_signals.quiz_completed.disconnect(dispatch_uid="tests.flaky")


def test_no_stitching_for_a_visitor_id_born_in_the_request(task_queue, monkeypatch):
    stitched = []
    real = experiment_services.identity_stitch
    monkeypatch.setattr(
        experiment_services, "identity_stitch", lambda **kw: stitched.append(kw["anonymous_id"]) or real(**kw)
    )
    _submit(email="fresh.browser@example.com")  # no cookie: the visitor id is made up by this request
    tasks.run_jobs()
    assert stitched == []

    client = APIClient()
    client.cookies[VISITOR_COOKIE] = "returning-visitor-42"
    _submit(client, email="known.browser@example.com")
    tasks.run_jobs()
    assert stitched == ["returning-visitor-42"]  # once, not once per signal


def test_an_account_holders_address_gets_the_offer_from_the_worker(task_queue):
    from accounts.tests.factories import CustomerFactory

    CustomerFactory(email="holder@example.com", password="correct-horse-42", is_email_verified=True)
    result = _submit(email="holder@example.com")
    assert result.customer is None
    assert _todo() == ["engagement.result_recorded"]
    tasks.run_jobs()
    assert result.pending.user.email == "holder@example.com"
    assert [m.to for m in mail.outbox] == [["holder@example.com"]]
    assert "/big-five/add/" in mail.outbox[0].body


def test_eager_mode_applies_the_effects_at_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = _submit()
    effects = _effects(result)
    assert effects["events"] == 1 and len(effects["ledger"]) == 2 and len(effects["emails"]) == 1
