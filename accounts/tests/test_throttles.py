"""Rate limits that cannot be dodged: failed log-ins (member page, console, API token) per account and
per address, password-reset emails, and API throttles keyed by the one client-address rule."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import CustomerFactory, StaffFactory

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def limits(settings):
    cache.clear()
    settings.LOGIN_FAILURES_PER_ACCOUNT = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 8
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    settings.PASSWORD_RESETS_PER_ACCOUNT = 2
    settings.PASSWORD_RESETS_PER_ADDRESS = 4
    yield settings
    cache.clear()


def page_login(client, email, password, ip="198.51.100.1"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
class TestMemberLogInPage:
    def test_guessing_stops_after_the_limit_even_with_the_right_password(self):
        member = CustomerFactory(password=PASSWORD)
        client = Client()
        for _ in range(5):
            assert page_login(client, member.email, "wrong-guess").status_code == 200
        refused = page_login(client, member.email, PASSWORD)
        assert refused.status_code == 200 and b"Too many failed log-ins" in refused.content
        assert client.get("/account/").status_code == 302  # not logged in
        # Per account: another address is refused too.
        assert b"Too many failed log-ins" in page_login(Client(), member.email, PASSWORD, ip="203.0.113.50").content

    def test_a_success_clears_the_accounts_count(self):
        member = CustomerFactory(password=PASSWORD)
        client = Client()
        for _ in range(4):
            page_login(client, member.email, "wrong-guess")
        assert page_login(client, member.email, PASSWORD).status_code == 302
        client.logout()
        for _ in range(4):  # from another address: the first address's failures still count for it
            page_login(client, member.email, "wrong-guess", ip="198.51.100.111")
        assert page_login(client, member.email, PASSWORD, ip="198.51.100.111").status_code == 302

    def test_one_address_trying_many_accounts_is_stopped(self):
        people = [CustomerFactory(password=PASSWORD) for _ in range(3)]
        client = Client()
        for i in range(8):
            page_login(client, people[i % 2].email, "wrong-guess")
        refused = page_login(client, people[2].email, PASSWORD)
        assert b"Too many failed log-ins" in refused.content
        assert page_login(Client(), people[2].email, PASSWORD, ip="203.0.113.77").status_code == 302

    def test_rotating_x_forwarded_for_gives_no_fresh_count(self):
        member = CustomerFactory(password=PASSWORD)
        client = Client()
        for i in range(5):
            client.post(
                "/accounts/login/",
                {"username": f"nobody{i}@example.com", "password": "x"},
                REMOTE_ADDR="198.51.100.9",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
            )
        for i in range(3):
            client.post(
                "/accounts/login/",
                {"username": member.email, "password": "x"},
                REMOTE_ADDR="198.51.100.9",
                HTTP_X_FORWARDED_FOR=f"10.1.0.{i}",
            )
        refused = client.post(
            "/accounts/login/",
            {"username": member.email, "password": PASSWORD},
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR="10.9.9.9",
        )
        assert b"Too many failed log-ins" in refused.content


@pytest.mark.django_db
def test_console_log_in_has_the_same_limit():
    staff = StaffFactory(password=PASSWORD)
    client = Client()
    for _ in range(5):
        client.post("/admin/login/", {"username": staff.email, "password": "wrong"}, REMOTE_ADDR="198.51.100.2")
    refused = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.2")
    assert refused.status_code == 200 and b"Too many failed log-ins" in refused.content
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_api_token_answers_429_when_the_account_is_locked():
    member = CustomerFactory(password=PASSWORD)
    client = APIClient()
    for _ in range(5):
        assert client.post("/api/v1/auth/token/", {"email": member.email, "password": "nope"}).status_code == 400
    response = client.post("/api/v1/auth/token/", {"email": member.email, "password": PASSWORD})
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "throttled" and "Too many failed log-ins" in error["message"] and error["retry_after"] > 0


@pytest.mark.django_db
def test_password_reset_is_limited_per_account_and_per_address(django_capture_on_commit_callbacks):
    member = CustomerFactory(password=PASSWORD)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            sent = client.post("/accounts/password-reset/", {"email": member.email}, REMOTE_ADDR="198.51.100.3")
            assert sent.status_code == 302
        refused = client.post("/accounts/password-reset/", {"email": member.email}, REMOTE_ADDR="198.51.100.4")
    assert refused.status_code == 200 and b"Too many password-reset requests" in refused.content
    assert len(mail.outbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(4):
            client.post("/accounts/password-reset/", {"email": f"other{i}@example.com"}, REMOTE_ADDR="198.51.100.5")
        refused = client.post("/accounts/password-reset/", {"email": "fresh@example.com"}, REMOTE_ADDR="198.51.100.5")
    assert b"Too many password-reset requests" in refused.content


@pytest.mark.django_db
class TestApiThrottleAddress:
    def test_rotating_x_forwarded_for_does_not_escape_the_throttle(self, monkeypatch, settings):
        from focusedroom.api.throttling import RateThrottle

        settings.TRUSTED_PROXY_COUNT = 0
        monkeypatch.setattr(RateThrottle, "anon_rate", "3/hour")
        client = APIClient()
        statuses = [
            client.get(
                "/api/v1/assessments/big-five/inventory/",
                REMOTE_ADDR="198.51.100.6",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{i}",
            ).status_code
            for i in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]

    def test_behind_one_trusted_proxy_the_client_is_the_address_the_proxy_wrote(self, monkeypatch, settings):
        from focusedroom.api.throttling import RateThrottle

        settings.TRUSTED_PROXY_COUNT = 1
        monkeypatch.setattr(RateThrottle, "anon_rate", "2/hour")
        client = APIClient()

        def get(forwarded):
            return client.get(
                "/api/v1/assessments/big-five/inventory/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
            ).status_code

        # The client may prepend anything; our proxy appends the address it saw (the last one).
        assert [get(f"1.2.3.{i}, 203.0.113.10") for i in range(3)] == [200, 200, 429]
        assert get("203.0.113.11") == 200
