"""No account enumeration: one answer shape and status for every address, and the work that differs
(sending email, looking the address up) runs after the response, in the background."""

import threading

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.tests.helpers import answers
from focusedroom import background

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


@pytest.mark.django_db(transaction=True)
def test_the_work_that_differs_runs_after_the_response(settings, monkeypatch):
    """Resending a verification link: the lookup and the email happen in the background, so an
    unknown address answers no faster than a known one."""
    settings.BACKGROUND_MODE = "threads"
    CustomerFactory(email="slow@example.com")
    gate, started = threading.Event(), threading.Event()
    from focusedroom import email as email_module

    real_send = email_module.send_templated_email

    def slow_send(**kwargs):
        started.set()
        assert gate.wait(10)
        real_send(**kwargs)

    monkeypatch.setattr(email_module, "send_templated_email", slow_send)
    try:
        response = APIClient().post("/api/v1/auth/verification/", {"email": "slow@example.com"})
        assert response.status_code == 202  # answered while the email is still waiting to be sent
        assert started.wait(10) and mail.outbox == []
    finally:
        gate.set()
        background.wait_for_background_tasks()
    assert [m.to for m in mail.outbox] == [["slow@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_signup_emails_leave_in_the_background_after_the_commit(settings):
    settings.BACKGROUND_MODE = "threads"
    User.objects.create_user("tested@example.com")
    response = APIClient().post("/api/v1/auth/register/", {"email": "tested@example.com", "password": PASSWORD})
    assert response.status_code == 202
    background.wait_for_background_tasks()
    assert [m.to for m in mail.outbox] == [["tested@example.com"]]
    assert "/accounts/claim/" in mail.outbox[0].body
