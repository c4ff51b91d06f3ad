"""Password changes, soft deletion and erasure end every session and API token; an email address
changes only through a link sent to the new address; support can neither set a password nor an address."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts import gdpr_services, services
from accounts.models import EmailChange, Session, User
from accounts.tests.factories import CustomerFactory, StaffFactory
from focusedroom.context import RequestContext

PASSWORD = "correct-horse-42"


def logged_in_browser(user) -> Client:
    client = Client()
    assert client.login(username=user.email, password=PASSWORD)
    assert client.get("/account/").status_code == 200
    return client


def token_client(user) -> APIClient:
    _, raw = services.api_token_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/v1/me/").status_code == 200
    return client


@pytest.mark.django_db
class TestSessionsKnowTheirPerson:
    def test_a_log_in_records_the_person_on_the_session_row(self):
        member = CustomerFactory(password=PASSWORD)
        logged_in_browser(member)
        logged_in_browser(member)
        assert Session.objects.filter(user=member).count() == 2

    def test_a_password_reset_ends_every_session_and_token(self, django_capture_on_commit_callbacks):
        member = CustomerFactory(password=PASSWORD)
        browser, api = logged_in_browser(member), token_client(member)
        with django_capture_on_commit_callbacks(execute=True):
            Client().post("/accounts/password-reset/", {"email": member.email})
        path = urlsplit(re.search(r"http\S+/accounts/reset/\S+/", mail.outbox[0].body).group(0)).path
        reset = Client()
        form_page = reset.get(path, follow=True)
        reset.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "brand-new-pass-42", "new_password2": "brand-new-pass-42"},
        )
        assert User.objects.get(pk=member.pk).check_password("brand-new-pass-42")
        assert not Session.objects.filter(user=member).exists()
        assert browser.get("/account/").status_code == 302
        assert api.get("/api/v1/me/").status_code == 401

    def test_soft_deletion_and_erasure_end_every_session(self):
        staff = StaffFactory()
        first, second = CustomerFactory(password=PASSWORD), CustomerFactory(password=PASSWORD)
        browsers = [logged_in_browser(first), logged_in_browser(second)]
        services.person_soft_delete(user=first, context=RequestContext.system(source="console", actor=staff))
        gdpr_services.person_erase(user=second)
        assert not Session.objects.filter(user__in=[first, second]).exists()
        assert all(b.get("/account/").status_code == 302 for b in browsers)


@pytest.mark.django_db
class TestEmailChange:
    def test_the_address_changes_only_when_the_new_address_confirms(self, django_capture_on_commit_callbacks):
        member = CustomerFactory(email="old@example.com", password=PASSWORD, is_email_verified=True)
        browser = logged_in_browser(member)
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.post("/account/email/", {"email": "New@Example.com"})
        assert response.status_code == 302
        member.refresh_from_db()
        assert member.email == "old@example.com"  # nothing changes before the link is followed
        assert [m.to for m in mail.outbox] == [["new@example.com"]]
        path = urlsplit(re.search(r"http\S+/account/email/\S+/", mail.outbox[0].body).group(0)).path
        assert Client().get(path).status_code == 200
        member.refresh_from_db()
        assert member.email == "old@example.com"  # a GET (mail scanner) changes nothing
        with django_capture_on_commit_callbacks(execute=True):
            assert Client().post(path).status_code == 200
        member.refresh_from_db()
        assert member.email == "new@example.com" and member.is_email_verified
        assert mail.outbox[-1].to == ["old@example.com"] and "was changed" in mail.outbox[-1].body
        assert Client().post(path).status_code == 404  # once
        assert member.changes.filter(fields__contains=["email"]).exists()

    def test_api_asks_the_same_way_and_a_taken_address_gets_no_link(self, django_capture_on_commit_callbacks):
        member = CustomerFactory(email="me@example.com", password=PASSWORD)
        CustomerFactory(email="taken@example.com")
        client = APIClient()
        client.force_authenticate(member)
        with django_capture_on_commit_callbacks(execute=True):
            free = client.post("/api/v1/me/email/", {"email": "free@example.com"}, format="json")
            taken = client.post("/api/v1/me/email/", {"email": "taken@example.com"}, format="json")
        assert free.status_code == taken.status_code == 202
        assert [m.to for m in mail.outbox] == [["free@example.com"]]
        assert EmailChange.objects.filter(user=member).count() == 1
        assert APIClient().post("/api/v1/me/email/", {"email": "x@example.com"}, format="json").status_code == 401

    def test_support_cannot_change_an_address(self, staff_with_perms):
        person = CustomerFactory(email="person@example.com")
        support = staff_with_perms("accounts.view_customer", "accounts.change_customer")
        with pytest.raises(Exception, match="Only the person"):
            services.person_email_change_request(
                user=person, new_email="support-chose@example.com", context=RequestContext.system(actor=support)
            )
        client = Client()
        client.force_login(support)
        page = client.get(f"/admin/accounts/customer/{person.pk}/change/").content.decode()
        assert 'name="email"' not in page  # read-only in the console
