"""The pages really keep the Content-Security-Policy: loaded without bypassing it, none of them
triggers a violation (no inline script or style, nothing from elsewhere), the API docs included."""

from __future__ import annotations

import pytest

from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.tests.helpers import submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_load_without_a_single_policy_violation(browser, live_server):
    member = CustomerFactory(password="correct-horse-42")
    result = submit(email=member.email)
    staff = StaffFactory(password="correct-horse-42", is_superuser=True)
    context = browser.new_context(base_url=live_server.url)  # the real policy: not bypassed
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def visit(path: str) -> None:
        page.goto(path)
        page.wait_for_load_state("networkidle")

    for path in ("/", "/big-five/", f"/big-five/results/{result.public_id}/", "/blog/introverts-at-work/",
                 "/accounts/signup/", "/accounts/login/", "/api/docs/"):  # fmt: skip
        visit(path)
    assert page.locator(".swagger-ui").count() == 1  # the API docs ran their script
    visit("/accounts/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")
    visit("/account/")
    page.context.clear_cookies()
    visit("/admin/login/")
    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill("correct-horse-42")
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")
    for path in (
        "/admin/",
        "/admin/accounts/customer/",
        f"/admin/accounts/customer/{member.pk}/change/",
        "/admin/experiments/experiment/add/",
        "/admin/profiles/targetcustomerprofile/add/",
        "/admin/profiles/brandguidelines/add/",
        "/admin/profiles/profilecontainer/add/",
        "/admin/integrations/outboxmessage/",
    ):
        visit(path)
    # The colour swatches of the style guide are drawn without inline style, also as one types.
    visit("/admin/profiles/brandguidelines/add/")
    colour = page.locator("input.fr-color").first
    if colour.count():
        colour.fill("#336699")
        assert page.locator(".fr-color-swatch rect").first.get_attribute("fill") == "#336699"
    context.close()
    assert violations == []
