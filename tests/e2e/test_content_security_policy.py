"""The pages really keep the Content-Security-Policy: loaded without bypassing it, none of them
triggers a violation (no inline script or style, nothing from elsewhere), the API docs included."""

from __future__ import annotations

import pytest

from accounts.models import Brand
from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement import services as engagement_services
from engagement.tests.helpers import submit
from focusedroom.context import RequestContext
from rewards.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_load_without_a_single_policy_violation(browser, live_server):
    member = CustomerFactory(password="correct-horse-42")
    result = submit(email=member.email)
    own = submit(context=RequestContext.system(source="page", actor=member))  # a second report, the member's own act
    friend = CustomerFactory()
    submit(context=RequestContext.system(source="page", actor=friend))
    joined = engagement_services.compare_link_create(owner=member, result=own, context=RequestContext.system())
    engagement_services.compare_link_join(link=joined, guest=friend, context=RequestContext.system())
    waiting = engagement_services.compare_link_create(owner=member, result=own, context=RequestContext.system())
    product = Product.objects.create(
        brand=Brand.objects.get(slug="focusedroom"),
        sku="FR-CSP",
        name="Policy Journal",
        msrp="5.00",
        points_award=5,
        redemption_cost=10,
    )
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
                 "/accounts/signup/", "/accounts/login/", engagement_services.compare_link_invite_path(waiting),
                 "/api/docs/"):  # fmt: skip
        visit(path)
    assert page.locator(".swagger-ui").count() == 1  # the API docs ran their script
    visit("/accounts/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/account/")
    for path in (
        "/account/",
        "/account/reports/",
        f"/big-five/results/{own.public_id}/",  # the owner's report: the retest and the compare button
        f"/big-five/compare/{joined.public_id}/",
        f"/big-five/compare/{waiting.public_id}/",
        "/account/gems/",
        "/account/gems/catalog/",
        f"/account/gems/redeem/confirm/?product={product.pk}",
        "/account/gems/scan/",
    ):
        visit(path)
    # The test page's script under the policy: pointing out unanswered statements draws no inline style.
    visit("/big-five/")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    assert page.locator("[data-item].is-unanswered").count() == 10
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
