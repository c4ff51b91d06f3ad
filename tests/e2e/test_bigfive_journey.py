"""The Big Five test in a real browser: paging, progress, answers kept across a reload, report, accessibility."""

import pytest

from accounts.models import User
from engagement.models import QuizResult
from engagement.tests.helpers import submit
from tests.e2e.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)


def answered(page) -> str:
    return page.locator("[data-progress-count]").inner_text()


def test_paged_test_keeps_answers_across_a_reload_and_clears_them_after_submit(page):
    page.goto("/big-five/")
    assert page.locator("[data-progress]").is_visible()
    assert page.locator("[data-page-total]").inner_text() == "13"
    assert not page.locator("#item-N1-1").is_visible()  # statements come after "About you"
    page.locator("#id_name").fill("Browser Person")
    page.locator("#id_age").fill("34")
    page.get_by_label("Female").check()
    page.locator("#id_email").fill("browser.person@example.com")
    page.get_by_role("button", name="Next").click()
    assert page.locator("#item-N1-1").is_visible() and not page.locator("#item-N1-1").is_hidden()
    for item in page.locator("[data-item]:visible").all():
        item.locator("label.bf-option").nth(3).click()  # Moderately Accurate
    assert answered(page) == "10"

    page.reload()  # nothing is lost
    assert answered(page) == "10"
    assert page.locator("[data-page-number]").inner_text() == "2"
    assert page.locator("#id_name").input_value() == "Browser Person"

    # Submitting with unanswered statements stays on the page and says why.
    page.evaluate("document.querySelector('[data-submit-row]').hidden = false")
    page.locator("[data-submit]").click()
    assert "110 of 120 statements are still unanswered" in page.locator("[data-message]").inner_text()

    page.evaluate(
        """() => document.querySelectorAll('[data-item]').forEach(item => {
             if (!item.querySelector('input:checked')) { item.querySelector('input[value="3"]').checked = true; }
           })"""
    )
    page.locator("form").dispatch_event("change")
    assert answered(page) == "120"
    for _ in range(12):
        if page.locator("[data-submit]").is_visible():
            break
        page.get_by_role("button", name="Next").click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/big-five/results/**")
    result = QuizResult.objects.get()
    assert result.customer.email == "browser.person@example.com" and result.sex == "F" and result.age == 34
    assert page.evaluate("window.localStorage.getItem('fr.bigfive.v1')") is None
    assert "#submitted" not in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Browser's Big Five personality report"
    assert page.locator("svg").first.is_visible()  # the domain chart

    # Printing: the print stylesheet hides the site chrome and keeps the whole report.
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.locator("svg").first.is_visible()
    assert page.get_by_role("heading", name="Your five domains").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    page.emulate_media(media="screen")
    screenshot(page, "journey1-bigfive-report")


def test_returning_customer_is_not_duplicated_and_a_stranger_sees_no_history(page):
    submit(email="returning@example.com", name="Robin", answers=dict.fromkeys(_item_ids(), 2))
    page.goto("/big-five/")
    page.locator("#id_name").fill("Robin")
    page.locator("#id_email").fill("RETURNING@example.com")
    page.evaluate(
        """() => document.querySelectorAll('[data-item]').forEach(item => {
             item.querySelector('input[value="4"]').checked = true;
           })"""
    )
    page.locator("form").dispatch_event("change")
    for _ in range(13):
        if page.locator("[data-submit]").is_visible():
            break
        page.get_by_role("button", name="Next").click()
    page.locator("[data-submit]").click()
    page.wait_for_url("**/big-five/results/**")
    assert User.all_objects.filter(email="returning@example.com").count() == 1
    reports = QuizResult.objects.filter(customer__email="returning@example.com").order_by("report_id")
    assert [r.report_id for r in reports] == [1, 2]
    # Not logged in, the report is the scores only: whoever typed the address sees no earlier report.
    assert page.get_by_role("columnheader", name="Since report 1").count() == 0
    assert page.locator(".bf-change").count() == 0 and page.locator(".bf-previous").count() == 0
    screenshot(page, "journey2-returning-report")


def _item_ids():
    from engagement.bigfive.inventory import ITEMS

    return [item.id for item in ITEMS]


def test_test_and_report_pages_have_no_serious_accessibility_violations(page):
    result = submit(email="a11y@example.com", name="Ally")
    page.goto("/big-five/")
    assert serious_accessibility_violations(page) == []
    page.goto(f"/big-five/results/{result.public_id}/")
    assert serious_accessibility_violations(page) == []
    page.goto("/blog/introverts-at-work/")
    assert serious_accessibility_violations(page) == []


def test_report_fits_a_phone_screen(browser, live_server):
    result = submit(email="phone@example.com")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800}, is_mobile=True)
    page = context.new_page()
    for path in ("/big-five/", f"/big-five/results/{result.public_id}/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    context.close()


def test_blog_widget_votes_with_fetch(page):
    page.goto("/blog/introverts-at-work/")
    page.get_by_role("button", name="♥ Like").click()
    page.wait_for_function("document.querySelector('[data-count=like]').textContent === '1'")
    assert "Thanks" in page.locator("[data-widget-status]").inner_text()
    page.get_by_role("button", name="♥ Like").click()
    page.wait_for_function("document.querySelector('[data-widget-status]').textContent.includes('already')")
    assert page.locator("[data-count=like]").inner_text() == "1"
