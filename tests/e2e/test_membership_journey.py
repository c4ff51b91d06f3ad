"""Sign-up, log-out and log-in in a real browser; accessibility of the public pages."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from accounts.models import User
from tests.e2e.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_signs_up_logs_out_and_logs_in_again(page):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill("browser.member@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create my account").click()
    # The error is shown next to the password field and nothing is stored.
    assert page.locator(".field-invalid .errorlist").first.is_visible()
    assert not User.objects.filter(email="browser.member@example.com").exists()

    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Create my account").click()
    # The same answer whatever the address: check the inbox (no log-in that would tell the address was new).
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"
    assert User.objects.filter(email="browser.member@example.com").exists()
    link = re.search(r"http\S+/verify-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(urlsplit(link).path)
    page.get_by_role("button", name="Confirm my email address").click()
    assert "Your email is confirmed" in page.content()
    assert User.objects.get(email="browser.member@example.com").is_email_verified

    page.goto("/")
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("browser.member@example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("Browser.Member@Example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
    screenshot(page, "membership")


@pytest.mark.parametrize("path", ["/", "/accounts/signup/", "/accounts/login/", "/accounts/password-reset/"])
def test_public_pages_have_no_serious_accessibility_violations(page, path):
    page.goto(path)
    assert serious_accessibility_violations(page) == []


@pytest.mark.parametrize("path", ["/", "/accounts/signup/"])
def test_pages_fit_a_375px_screen(mobile_page, path):
    mobile_page.goto(path)
    overflow = mobile_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
