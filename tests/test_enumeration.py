"""No account enumeration: one answer shape and status for every address, and the work that differs
(sending email, looking the address up) runs in a task worker, after the response."""

import json

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.tests.helpers import answers
from focusedroom import tasks

PASSWORD = "correct-horse-42"


@pytest.fixture
def addresses(db):
    """One address of each kind."""
    CustomerFactory(email="member@example.com", password=PASSWORD, is_email_verified=True)
    CustomerFactory(email="unverified@example.com", password=PASSWORD)
    User.objects.create_user("tested@example.com")  # took the test, no password
    CustomerFactory(email="gone@example.com", deleted_at=timezone.now())
    StaffFactory(email="staff@focusedroom.local", password=PASSWORD)
    return ["new@example.com", "member@example.com", "unverified@example.com", "tested@example.com",
            "gone@example.com", "staff@focusedroom.local"]  # fmt: skip


def without_email(body: dict, email: str) -> dict:
    return {k: v.replace(email, "<email>") if isinstance(v, str) else v for k, v in body.items()}


@pytest.mark.django_db
def test_register_answers_the_same_for_every_address(addresses, monkeypatch):
    hashed = []
    real = services.make_password
    monkeypatch.setattr(services, "make_password", lambda raw, *a, **k: hashed.append(raw) or real(raw, *a, **k))
    answers_seen = set()
    for email in addresses:
        response = APIClient().post("/api/v1/auth/register/", {"email": email, "password": "some-new-pass-42"})
        assert response.status_code == 202, (email, response.content)
        answers_seen.add(tuple(sorted(without_email(response.json(), email).items())))
    assert len(answers_seen) == 1
    assert hashed.count("some-new-pass-42") == len(addresses)  # the same work whatever the address
    assert User.objects.get(email="member@example.com").check_password(PASSWORD)  # nothing taken over


@pytest.mark.django_db
def test_signup_page_answers_the_same_for_every_address(addresses):
    pages = set()
    for email in addresses:
        response = Client().post("/accounts/signup/", {"email": email, "password": "some-new-pass-42"})
        assert response.status_code == 200
        html = response.content.decode().replace(email, "<email>")
        pages.add(html.split('name="csrfmiddlewaretoken"')[0])
    assert len(pages) == 1


@pytest.mark.django_db
def test_big_five_submission_answers_the_same_shape_for_every_address(addresses):
    shapes = set()
    for email in addresses:
        response = APIClient().post(
            "/api/v1/assessments/big-five/", {"answers": answers(), "email": email}, format="json"
        )
        assert response.status_code == 201, (email, response.content)
        shapes.add(tuple(sorted(response.json())))
    assert len(shapes) == 1
    assert not {"customer_id", "report_id", "earned_gems"} & set(next(iter(shapes)))


@pytest.mark.django_db
def test_verification_resend_answers_the_same(addresses):
    bodies = {APIClient().post("/api/v1/auth/verification/", {"email": email}).content for email in addresses}
    assert len(bodies) == 1


def _queued() -> list[tuple[str, dict]]:
    return [(job.task_name, job.args) for job in ProcrastinateJob.objects.filter(status="todo").order_by("id")]


def test_the_work_that_differs_runs_in_a_worker(task_queue):
    """Resending a verification link: the request queues the same one job for any address (the
    address encrypted); the lookup and the email happen in a worker, so an unknown address answers
    no faster than a known one."""
    CustomerFactory(email="slow@example.com")
    shapes = []
    for email in ("slow@example.com", "nobody@example.com"):
        sent = len(mail.outbox)
        response = APIClient().post("/api/v1/auth/verification/", {"email": email})
        assert response.status_code == 202
        jobs = _queued()
        assert [name for name, _ in jobs] == ["accounts.verification_resend"]
        assert email not in json.dumps(jobs[0][1])  # never in clear in the job table
        shapes.append(sorted(jobs[0][1]))
        assert len(mail.outbox) == sent  # answered before anything is looked up or sent
        tasks.run_jobs()
    assert shapes[0] == shapes[1]
    assert [m.to for m in mail.outbox] == [["slow@example.com"]]  # two jobs: the resend, then its email


def test_signup_emails_leave_from_a_worker_after_the_commit(task_queue):
    User.objects.create_user("tested@example.com")
    response = APIClient().post("/api/v1/auth/register/", {"email": "tested@example.com", "password": PASSWORD})
    assert response.status_code == 202
    assert mail.outbox == []
    jobs = _queued()
    assert [name for name, _ in jobs] == ["focusedroom.send_email"]
    assert "/accounts/claim/" not in json.dumps(jobs[0][1])  # the emailed link is a secret: sealed in the job
    tasks.run_jobs()
    assert [m.to for m in mail.outbox] == [["tested@example.com"]]
    assert "/accounts/claim/" in mail.outbox[0].body


def test_password_reset_queues_the_same_job_for_every_address(task_queue):
    CustomerFactory(email="known@example.com", password=PASSWORD)
    shapes = []
    for email in ("known@example.com", "unknown@example.com"):
        response = Client().post("/accounts/password-reset/", {"email": email})
        assert response.status_code == 302
        jobs = _queued()
        assert [name for name, _ in jobs] == ["accounts.password_reset_send"]
        assert email not in json.dumps(jobs[0][1])
        shapes.append(json.dumps({k: v for k, v in jobs[0][1].items() if k != "email"}, sort_keys=True))
        tasks.run_jobs()
    assert shapes[0] == shapes[1]
    assert [m.to for m in mail.outbox] == [["known@example.com"]]
    assert "/accounts/reset/" in mail.outbox[0].body
