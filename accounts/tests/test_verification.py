"""Email verification: links by email, single use, expiry, bound email, cooldown, enumeration safety."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services, signals, verification
from accounts.models import EmailVerificationToken, User
from accounts.tests.factories import CustomerFactory
from focusedroom.context import RequestContext
from focusedroom.testing import run_in_parallel

LINK = re.compile(r"http://[^\s\"<]+/verify-email/([A-Za-z0-9_-]+)/")


def link_token(message) -> str:
    """The raw token from the text part, checking the HTML part carries the same link."""
    raw = LINK.search(message.body).group(1)
    html = message.alternatives[0][0]
    assert f"/verify-email/{raw}/" in html
    return raw


@pytest.fixture
def verified_events():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    signals.email_verified.connect(receiver, dispatch_uid="test-verified-events")
    yield received
    signals.email_verified.disconnect(dispatch_uid="test-verified-events")


@pytest.mark.django_db
class TestSignupSendsAndLinkConfirms:
    def test_new_member_gets_a_link_that_verifies_once(
        self, client, django_capture_on_commit_callbacks, verified_events
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post(
                "/api/v1/auth/register/", {"email": "New.Member@example.com", "password": "correct-horse-42"}
            )
        assert response.status_code == 202
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["new.member@example.com"]
        assert message.alternatives and message.alternatives[0][1] == "text/html"
        raw = link_token(message)

        stored = EmailVerificationToken.objects.get()
        assert stored.token == services.hash_token(raw) and raw not in stored.token
        assert stored.email == "new.member@example.com" and not stored.is_used
        user = User.objects.get(email="new.member@example.com")
        assert user.last_verification_email_sent_at is not None and not user.is_email_verified

        page = client.get(f"/verify-email/{raw}/")  # a GET (a mail scanner) confirms nothing
        assert page.status_code == 200 and b"Confirm my email address" in page.content
        user.refresh_from_db()
        assert not user.is_email_verified and not verified_events
        page = client.post(f"/verify-email/{raw}/")
        assert page.status_code == 200
        assert b"Your email is confirmed" in page.content
        user.refresh_from_db()
        stored.refresh_from_db()
        assert user.is_email_verified and user.email_verified_at is not None
        assert stored.is_used and stored.used_at is not None
        assert len(verified_events) == 1
        assert verified_events[0]["user"] == user and verified_events[0]["verification"] == stored

        again = client.post(f"/verify-email/{raw}/")
        assert again.status_code == 409
        assert b"already been used" in again.content
        assert b"Send a new link" in again.content
        assert len(verified_events) == 1

    def test_claim_path_sends_no_verification_email(self, client, django_capture_on_commit_callbacks):
        services.person_identify(email="taker@example.com", profile={"name": "T"})  # no request: no email
        assert mail.outbox == []
        with django_capture_on_commit_callbacks(execute=True):
            result = services.member_signup(email="taker@example.com", password="correct-horse-42")
        assert result.user is None  # no account made: the record is claimed through the emailed link
        raw = re.search(r"/accounts/claim/([^/\s]+)/", mail.outbox[0].body).group(1)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(f"/accounts/claim/{raw}/").status_code == 302
        assert len(mail.outbox) == 1  # only the claim email
        assert not EmailVerificationToken.objects.exists()
        assert User.objects.get(email="taker@example.com").is_email_verified

    def test_new_person_from_a_page_gets_an_email_existing_and_imported_do_not(
        self, django_capture_on_commit_callbacks
    ):
        context = RequestContext.from_request(RequestFactory().post("/big-five/"))
        with django_capture_on_commit_callbacks(execute=True):
            services.person_identify(email="quiz@example.com", context=context)
            services.person_identify(email="quiz@example.com", context=context)  # existing person: no second
            services.person_identify(
                email="imported@example.com", context=RequestContext.system(source="command")
            )  # an import: nothing
        assert [m.to for m in mail.outbox] == [["quiz@example.com"]]


@pytest.mark.django_db
class TestBadLinks:
    def test_unknown_link_is_404_with_a_resend_form(self, client):
        response = client.get("/verify-email/not-a-real-token/")
        assert response.status_code == 404
        assert b"not valid" in response.content
        assert b'name="email"' in response.content and b"csrfmiddlewaretoken" in response.content

    def test_expired_link_is_410_and_verifies_nothing(self, client, django_capture_on_commit_callbacks):
        user = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=True):
            assert verification.verification_send(user=user)
        raw = link_token(mail.outbox[0])
        past = timezone.now() - timedelta(hours=49)
        EmailVerificationToken.objects.update(created_at=past, expires_at=past + timedelta(hours=48))
        response = client.get(f"/verify-email/{raw}/")
        assert response.status_code == 410
        assert b"expired" in response.content
        user.refresh_from_db()
        assert not user.is_email_verified
        assert not EmailVerificationToken.objects.get().is_used

    def test_link_is_bound_to_the_address_it_was_sent_to(self, client, django_capture_on_commit_callbacks):
        user = CustomerFactory(email="old@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            verification.verification_send(user=user)
        raw = link_token(mail.outbox[0])
        User.objects.filter(pk=user.pk).update(email="new@example.com")
        response = client.get(f"/verify-email/{raw}/")
        assert response.status_code == 409
        assert b"no longer the one on the account" in response.content
        user.refresh_from_db()
        assert not user.is_email_verified

    def test_erased_person_link_is_404(self, client, django_capture_on_commit_callbacks):
        user = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=True):
            verification.verification_send(user=user)
        raw = link_token(mail.outbox[0])
        User.objects.filter(pk=user.pk).update(deleted_at=timezone.now())
        assert client.get(f"/verify-email/{raw}/").status_code == 404

    def test_service_errors_are_clear(self, django_capture_on_commit_callbacks):
        from focusedroom.errors import Conflict, NotFound

        user = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=True):
            verification.verification_send(user=user)
        raw = link_token(mail.outbox[0])
        with pytest.raises(NotFound):
            verification.verification_confirm(raw_token="x" * 43)
        verification.verification_confirm(raw_token=raw)
        with pytest.raises(Conflict, match="already been used"):
            verification.verification_confirm(raw_token=raw)


@pytest.mark.django_db
class TestResendIsEnumerationSafeWithCooldown:
    def test_same_answer_for_unknown_verified_and_unverified(self, django_capture_on_commit_callbacks):
        CustomerFactory(email="waiting@example.com")
        CustomerFactory(email="done@example.com", is_email_verified=True)
        client = APIClient()
        answers = []
        with django_capture_on_commit_callbacks(execute=True):
            for email in ("waiting@example.com", "done@example.com", "nobody@example.com", "WAITING@example.com"):
                response = client.post("/api/v1/auth/verification/", {"email": email}, format="json")
                answers.append((response.status_code, response.json()))
        assert len({(status, str(body)) for status, body in answers}) == 1
        assert answers[0][0] == 202
        # one email: the verified and unknown addresses get none, the second ask is inside the cooldown
        assert [m.to for m in mail.outbox] == [["waiting@example.com"]]

    def test_bad_email_is_a_field_error(self):
        response = APIClient().post("/api/v1/auth/verification/", {"email": "nope"}, format="json")
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"email"}

    def test_cooldown_then_a_new_email(self, django_capture_on_commit_callbacks, settings):
        user = CustomerFactory()
        with django_capture_on_commit_callbacks(execute=True):
            assert verification.verification_send(user=user) is True
            assert verification.verification_send(user=user) is False
        assert len(mail.outbox) == 1
        User.objects.filter(pk=user.pk).update(
            last_verification_email_sent_at=timezone.now()
            - timedelta(seconds=settings.EMAIL_VERIFICATION_COOLDOWN_SECONDS + 1)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert verification.verification_send(user=user) is True
        assert len(mail.outbox) == 2
        assert EmailVerificationToken.objects.filter(user=user).count() == 2

    def test_resend_page_answers_the_same_for_anyone(self, client, django_capture_on_commit_callbacks):
        CustomerFactory(email="page@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            known = client.post("/verify-email/resend/", {"email": "page@example.com"})
            unknown = client.post("/verify-email/resend/", {"email": "ghost@example.com"})
        assert known.status_code == unknown.status_code == 200
        assert known.content.replace(b"page@example.com", b"X") == unknown.content.replace(b"ghost@example.com", b"X")
        assert len(mail.outbox) == 1
        bad = client.post("/verify-email/resend/", {"email": "not-an-email"})
        assert bad.status_code == 400 and b"field-invalid" in bad.content

    def test_account_page_offers_a_new_link_to_unverified_members(self, client, member):
        client.force_login(member)
        page = client.get("/account/")
        assert b"not verified yet" in page.content and b"/verify-email/resend/" in page.content


@pytest.mark.django_db(transaction=True)
def test_parallel_resends_from_many_connections_send_one_email():
    user = CustomerFactory()
    results, errors = run_in_parallel(8, lambda i: verification.verification_send(user=User.objects.get(pk=user.pk)))
    assert errors == []
    assert results.count(True) == 1 and len(results) == 8
    assert len(mail.outbox) == 1
    assert EmailVerificationToken.objects.filter(user=user).count() == 1


@pytest.mark.django_db
class TestDatabaseRefusesBadTokens:
    def _token(self, **overrides):
        now = timezone.now()
        fields = {
            "user": CustomerFactory(),
            "token": "a" * 64,
            "email": "x@example.com",
            "created_at": now,
            "expires_at": now + timedelta(hours=1),
        }
        fields.update(overrides)
        return EmailVerificationToken(**fields)

    @pytest.mark.parametrize(
        "overrides",
        [
            {"is_used": True, "used_at": None},
            {"is_used": False, "used_at": timezone.now()},
            {"expires_at": timezone.now() - timedelta(days=1)},
            {"token": "raw-token-not-a-hash"},
        ],
        ids=["used-without-time", "time-without-used", "expires-before-created", "not-a-sha256"],
    )
    def test_raw_insert_refused(self, overrides):
        token = self._token(**overrides)
        with pytest.raises(IntegrityError), transaction.atomic():
            token.save()

    def test_same_hash_twice_refused(self):
        self._token().save()
        with pytest.raises(IntegrityError), transaction.atomic():
            self._token().save()
