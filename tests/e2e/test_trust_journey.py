"""Ownership before attachment, in a real browser: a logged-in member's test joins their history,
numbered; a visitor who types that member's email sees only their own scores."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.tests.factories import CustomerFactory
from engagement.models import PendingResult, QuizResult
from engagement.tests.helpers import submit
from focusedroom.context import RequestContext
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-42"


def answer_everything(page, value: str) -> None:
    page.evaluate(
        """(value) => document.querySelectorAll('[data-item]').forEach(item => {
             item.querySelector(`input[value="${value}"]`).checked = true;
           })""",
        value,
    )
    page.locator("#bigfive-form").dispatch_event("change")
    for _ in range(13):
        if page.locator("[data-submit]").is_visible():
            break
        page.get_by_role("button", name="Next").click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/big-five/results/**")


def test_a_member_finds_the_new_report_numbered_and_a_stranger_with_their_email_sees_only_their_scores(
    page, browser, live_server
):
    member = CustomerFactory(
        email="journey.member@example.com",
        password=PASSWORD,
        name="Jordan Member",
        first_name="Jordan",
        age=45,
        is_email_verified=True,
        email_verified_at=timezone.now(),
    )
    submit(sex="M", age=45, context=RequestContext.system(source="page", actor=member))  # their first report

    # The member logs in and takes the test: the form knows them and asks no email.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")
    page.goto("/big-five/")
    assert page.locator("#id_name").input_value() == "Jordan Member"
    assert page.locator("#id_age").input_value() == "45"
    assert page.locator("#id_email").count() == 0
    assert "Logged in as journey.member@example.com" in page.locator(".bf-member-note").inner_text()
    answer_everything(page, "4")
    assert "Report 2 ·" in page.locator(".bf-report-header").inner_text()
    assert page.get_by_role("columnheader", name="Since report 1").is_visible()

    # Their history on the account page lists it, numbered.
    page.goto("/account/")
    history = page.get_by_role("region", name="Your Big Five reports")
    assert history.get_by_role("link", name="Report 2").is_visible()
    assert history.get_by_role("link", name="Report 1").is_visible()
    screenshot(page, "journey-trust-member-history")

    # A stranger types the member's email in another browser.
    stranger = browser.new_context(base_url=live_server.url, viewport={"width": 1100, "height": 900}, bypass_csp=True)
    other = stranger.new_page()
    other.set_default_timeout(15_000)
    other.goto("/big-five/")
    other.locator("#id_name").fill("Stranger")
    other.locator("#id_email").fill("JOURNEY.MEMBER@example.com")
    other.locator("#id_age").fill("22")
    answer_everything(other, "2")
    header = other.locator(".bf-report-header").inner_text()
    assert "Report" not in header and "Jordan" not in other.content()
    assert other.get_by_role("columnheader", name="Since report 1").count() == 0
    assert other.get_by_role("heading", level=1).inner_text() == "Stranger's Big Five personality report"
    screenshot(other, "journey-trust-stranger-report")
    stranger.close()

    # Nothing joined the member's history; the report waits for them to add it from their email.
    assert list(
        QuizResult.objects.filter(customer=member).values_list("report_id", flat=True).order_by("report_id")
    ) == [
        1,
        2,
    ]
    assert PendingResult.objects.filter(user=member, attached_at__isnull=True).count() == 1
