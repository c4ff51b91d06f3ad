"""The member's journey in a real browser: a logged-in member's test numbered in "My reports" with its trend, a
retest within measurement error that says so, the test page pointing out unanswered statements (with and
without JavaScript), a compare link between two members, and a redemption that asks first."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts.models import Brand
from accounts.tests.factories import CustomerFactory
from engagement.bigfive.inventory import ITEMS
from engagement.models import CompareLink, QuizResult
from engagement.tests.helpers import submit
from focusedroom.context import RequestContext
from rewards.models import AchievementConfig, Product, Redemption, RewardItem, Wallet
from tests.e2e.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-42"
FIRST_ANSWERS = {item.id: (item.num % 5) + 1 for item in ITEMS}  # a varied, fixed set of answers


def member(**fields):
    fields.setdefault("password", PASSWORD)
    return CustomerFactory(is_email_verified=True, email_verified_at=timezone.now(), **fields)


def log_in(page, person) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= page.viewport_size["height"]


def answer(page, answers: dict[str, int]) -> None:
    page.evaluate(
        """(answers) => Object.entries(answers).forEach(([id, value]) => {
             document.querySelector(`#item-${id} input[value="${value}"]`).checked = true;
           })""",
        {k: str(v) for k, v in answers.items()},
    )
    page.locator("#bigfive-form").dispatch_event("change")


def test_a_member_takes_the_test_and_finds_it_numbered_in_my_reports_with_the_trend(page):
    person = member(email="journey.one@example.com", first_name="Robin", name="Robin Journey", age=40)
    submit(answers=FIRST_ANSWERS, sex="M", age=40, context=RequestContext.system(source="page", actor=person))
    log_in(page, person)
    page.goto("/big-five/")
    assert page.locator("#id_name").input_value() == "Robin Journey"
    retest = dict(FIRST_ANSWERS)
    for item in ITEMS[:3]:  # three statements answered one step differently: nothing beyond measurement error
        retest[item.id] = 3 if FIRST_ANSWERS[item.id] != 3 else 4
    answer(page, retest)
    for _ in range(13):
        if page.locator("[data-submit]").is_visible():
            break
        page.get_by_role("button", name="Next").click()
    # The last page: a submit button and no "Next" that does nothing.
    assert page.locator("[data-submit]").is_visible() and not page.get_by_role("button", name="Next").is_visible()
    # A duration under a second is not recorded (no person answers 120 statements that fast); this
    # journey is a script, so it takes at least that long before it submits.
    page.wait_for_timeout(1_000)
    page.locator("[data-submit]").click()
    page.wait_for_url("**/big-five/results/**")

    assert "Report 2 ·" in page.locator(".bf-report-header").inner_text()
    assert "every difference is within measurement error" in " ".join(
        page.locator("[data-retest]").inner_text().split()
    )
    cells = page.locator(".bf-table .bf-change").all_inner_texts()
    assert len(cells) == 5 and all("within measurement error" in c for c in cells)
    assert page.get_by_role("heading", name="At a glance").is_visible()
    assert "Keep your reports" not in page.content()  # a member is not invited to become one
    result = QuizResult.objects.get(customer=person, report_id=2)
    assert result.quiz_metadata["duration_seconds"] is not None  # how long the test took, measured

    page.goto("/account/")
    page.get_by_role("link", name="My reports: all of them, with the trend of each domain").click()
    page.wait_for_url("**/account/reports/")
    rows = page.locator(".bf-reports tbody tr")
    assert rows.count() == 2 and rows.first.locator("th").inner_text() == "Report 2"
    assert page.locator("svg.fr-trend").count() == 5
    assert page.locator("svg.fr-trend circle").count() == 10
    assert page.locator("svg.fr-trend circle.is-marked").count() == 0  # nothing beyond measurement error
    assert serious_accessibility_violations(page) == []
    screenshot(page, "journey-my-reports")


def test_next_points_out_unanswered_statements_and_a_refused_submit_focuses_the_first(page):
    page.goto("/big-five/")
    page.get_by_role("button", name="Next").click()  # "About you" is optional
    first_page = ITEMS[:10]
    answer(page, {item.id: 4 for item in first_page[:7]})
    page.get_by_role("button", name="Next").click()
    message = page.locator("[data-message]")
    assert "3 statements on this page are not answered yet" in message.inner_text()
    assert in_viewport(page, message)
    unanswered = page.locator("[data-item].is-unanswered")
    assert unanswered.count() == 3 and unanswered.first.get_attribute("id") == f"item-{first_page[7].id}"
    assert page.evaluate("document.activeElement.closest('[data-item]').id") == f"item-{first_page[7].id}"
    assert page.locator("[data-page-number]").inner_text() == "2"
    page.get_by_role("button", name="Next").click()  # again: going on is allowed
    assert page.locator("[data-page-number]").inner_text() == "3" and message.is_hidden()
    answer(page, {item.id: 3 for item in ITEMS[10:]})
    assert page.locator("[data-item].is-unanswered").count() == 3  # still marked until answered
    for _ in range(12):
        if page.locator("[data-submit]").is_visible():
            break
        page.get_by_role("button", name="Next").click()
    page.locator("[data-submit]").click()
    assert "3 of 120 statements are still unanswered" in message.inner_text()
    assert page.locator("[data-page-number]").inner_text() == "2"
    assert in_viewport(page, message)
    assert page.evaluate("document.activeElement.closest('[data-item]').id") == f"item-{first_page[7].id}"
    assert QuizResult.objects.count() == 0
    screenshot(page, "journey-test-unanswered")


def test_without_javascript_the_refused_test_opens_at_its_message_with_a_link_to_the_first_unanswered(
    browser, live_server
):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto("/big-five/")
    missing = ITEMS[42]
    for item in ITEMS:
        if item is not missing:
            page.locator(f"#item-{item.id} input[value='3']").check()
    page.get_by_role("button", name="See my results").click()
    page.wait_for_load_state()
    assert page.url.endswith("/big-five/#form-errors")
    summary = page.locator("#form-errors")
    assert "1 of 120 statements is still unanswered" in summary.inner_text()
    assert in_viewport(page, summary)
    assert page.get_by_role("link", name="Go to the first one").get_attribute("href") == f"#item-{missing.id}"
    assert "field-invalid" in page.locator(f"#item-{missing.id}").get_attribute("class")
    assert page.locator(f"#item-{ITEMS[0].id} input[value='3']").is_checked()  # the given answers are kept
    context.close()


def test_a_compare_link_works_between_two_members(page, browser, live_server):
    ada = member(email="ada.compare@example.com", first_name="Ada")
    sam = member(email="sam.compare@example.com", first_name="Sam")
    ada_report = submit(answers=FIRST_ANSWERS, context=RequestContext.system(source="page", actor=ada))
    submit(answers={i.id: 6 - v for i, v in zip(ITEMS, FIRST_ANSWERS.values(), strict=True)},
           context=RequestContext.system(source="page", actor=sam))  # fmt: skip

    log_in(page, ada)
    page.goto(f"/big-five/results/{ada_report.public_id}/")
    page.get_by_role("button", name="Make a compare link").click()
    invite = page.locator("#invite-url").input_value()
    assert "/big-five/compare/" in invite

    other = browser.new_context(base_url=live_server.url, viewport={"width": 1100, "height": 900}, bypass_csp=True)
    sam_page = other.new_page()
    sam_page.set_default_timeout(15_000)
    sam_page.goto(invite)
    assert "Ada invites you to compare" in sam_page.locator("h1").inner_text()
    log_in(sam_page, sam)
    sam_page.goto(invite)
    sam_page.get_by_role("button", name="Compare with my report 1").click()
    assert sam_page.locator("h1").inner_text() == "You and Ada"
    assert sam_page.locator(".bf-compare-row").count() == 5
    assert sam_page.locator(".bf-note").first.inner_text().startswith(("Similar:", "Different:"))
    assert serious_accessibility_violations(sam_page) == []
    screenshot(sam_page, "journey-compare")

    page.reload()
    assert page.locator("h1").inner_text() == "You and Sam"
    link = CompareLink.objects.get()
    assert (link.owner, link.guest) == (ada, sam)

    third = browser.new_context(base_url=live_server.url, bypass_csp=True).new_page()
    stranger = member(email="stranger.compare@example.com")
    log_in(third, stranger)
    third.goto(invite)
    assert "private to the two people" in third.content()
    third.goto(f"/big-five/compare/{link.public_id}/")
    assert "You and" not in third.content()

    sam_page.get_by_role("button", name="Revoke this comparison").click()
    page.reload()
    assert "was revoked" in page.content() and page.locator(".bf-compare-row").count() == 0
    other.close()


def test_a_redeem_asks_for_confirmation_and_gems_announce_themselves(page):
    brand = Brand.objects.get(slug="focusedroom")
    Product.objects.create(brand=brand, sku="FR-JOURNAL", name="Focus Journal", msrp="24.00", points_award=40,
                           redemption_cost=80)  # fmt: skip
    RewardItem.objects.create(brand=brand, key="coaching", name="Coaching session", cost=5000)
    AchievementConfig.objects.create(
        brand=brand, name="First scan", achievement_key="first-scan", achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1}, rewards={"points": 15},
    )  # fmt: skip
    person = member(email="gems.journey@example.com")
    log_in(page, person)
    daily = page.locator("[data-daily-reward]")
    assert "Today's reward is in: +5 gems" in daily.inner_text()  # credited at log-in: no button to press
    assert page.get_by_role("button", name="Collect today's reward").count() == 0

    page.get_by_role("link", name="Scan a product").click()
    page.get_by_label("Product code (SKU)").fill("fr-journal")  # any letter case
    page.get_by_role("button", name="Earn gems").click()
    messages = page.locator(".messages").inner_text()
    assert "+40 Insight Gems" in messages and "Achievement unlocked: First scan (+15 Insight Gems)!" in messages
    page.goto("/account/gems/")
    assert "Achievement unlocked" not in page.locator("main").inner_text().split("Milestones")[0]  # said once
    assert "Achievement unlocked: First scan" in page.locator(".gems-milestones").inner_text()

    balance = Wallet.objects.get(user=person).balance
    page.goto("/account/gems/catalog/")
    assert f"{5000 - balance} more gems needed" in page.content()
    assert page.get_by_role("button", name="Redeem for 5000 gems").is_disabled()
    page.get_by_role("button", name="Redeem for 80 gems").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Redeem Focus Journal?"
    summary = page.locator(".gems-summary").inner_text()
    assert f"{balance} gems" in summary and f"{balance - 80} gems" in summary
    assert Redemption.objects.count() == 0  # asking spends nothing
    screenshot(page, "journey-redeem-confirm")
    page.get_by_role("button", name="Yes, redeem for 80 gems").click()
    assert f"Your balance is now {balance - 80} gems" in page.locator(".messages").inner_text()
    assert Redemption.objects.filter(user=person).count() == 1
    assert Wallet.objects.get(user=person).balance == balance - 80
