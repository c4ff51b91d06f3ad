"""Phone first: every public and member page at 375 px — nothing overflows the viewport or its container, tables
become stacked lists, facet names never collide with their numbers — and axe-core finds nothing serious."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Brand
from accounts.tests.factories import CustomerFactory
from engagement import services as engagement_services
from engagement.blog import POSTS
from engagement.tests.helpers import random_answers, submit
from focusedroom.context import RequestContext
from rewards import services as rewards_services
from rewards.models import AchievementConfig, Product, Rank, RewardItem
from tests.e2e.conftest import overflowing_elements, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-42"


def world():
    """A member with history: two reports, a joined comparison and an open link, gems, ranks, a product, a
    reward they cannot afford yet, an unlocked achievement, and a test waiting for them by email."""
    brand = Brand.objects.get(slug="focusedroom")
    Rank.objects.create(brand=brand, key="explorer", name="Explorer", points_required=0)
    Rank.objects.create(brand=brand, key="seeker", name="Seeker", points_required=1000, point_multiplier="1.50")
    product = Product.objects.create(
        brand=brand, sku="FR-JOURNAL", name="Focus Journal with a rather long product name", msrp="24.00",
        points_award=40, redemption_cost=80,
    )  # fmt: skip
    RewardItem.objects.create(brand=brand, key="coaching", name="One coaching session", cost=5000)
    AchievementConfig.objects.create(
        brand=brand, name="First scan", achievement_key="first-scan", achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1}, rewards={"points": 15},
    )  # fmt: skip
    member = CustomerFactory(
        email="phone.member.with.a.long.address@example.com", password=PASSWORD, first_name="Maximiliana",
        name="Maximiliana Phone", is_email_verified=True, email_verified_at=timezone.now(),
    )  # fmt: skip
    context = RequestContext.system(source="page", actor=member)
    first = submit(context=context, answers=random_answers(1), sex="F", age=30)
    second = submit(context=context, answers=random_answers(2), sex="F", age=30)
    rewards_services.product_scan(user=member, sku=product.sku)
    friend = CustomerFactory(first_name="Sam")
    submit(context=RequestContext.system(source="page", actor=friend), answers=random_answers(3))
    joined = engagement_services.compare_link_create(owner=member, result=second, context=context)
    engagement_services.compare_link_join(link=joined, guest=friend, context=RequestContext.system())
    waiting = engagement_services.compare_link_create(owner=member, result=first, context=context)
    mail.outbox.clear()
    submit(email=member.email, answers=random_answers(4))  # not logged in: waits for the member's link
    pending = urlsplit(re.search(r"http\S+/big-five/add/\S+/", mail.outbox[-1].body).group(0)).path
    return {"member": member, "first": first, "second": second, "joined": joined, "waiting": waiting,
            "product": product, "pending": pending}  # fmt: skip


def check(page, path: str, name: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    for details in page.locator("details").all():  # opened, the longest texts count too
        details.evaluate("d => d.open = true")
    assert overflowing_elements(page) == [], path
    assert serious_accessibility_violations(page) == [], path
    screenshot(page, f"phone-{name}")


def test_every_public_and_member_page_fits_375_px(mobile_page):
    data = world()
    anonymous_report = submit(email="visitor@example.com", answers=random_answers(5))
    invite = engagement_services.compare_link_invite_path(data["waiting"])
    public = {
        "home": "/",
        "test": "/big-five/",
        "report": f"/big-five/results/{anonymous_report.public_id}/",
        "blog": "/blog/",
        "post": f"/blog/{next(iter(POSTS))}/",
        "signup": "/accounts/signup/",
        "login": "/accounts/login/",
        "reset": "/accounts/password-reset/",
        "resend": "/verify-email/resend/",
        "invite": invite,
        "pending": data["pending"],
        "not-found": "/nothing-here/",
    }
    for name, path in public.items():
        check(mobile_page, path, name)

    # The test page after a refused submit (no JavaScript check: the server's own message).
    mobile_page.goto("/big-five/")
    mobile_page.evaluate("document.getElementById('bigfive-form').noValidate = true")
    mobile_page.evaluate("document.getElementById('bigfive-form').submit()")
    mobile_page.wait_for_load_state("networkidle")
    assert overflowing_elements(mobile_page) == []

    mobile_page.goto("/accounts/login/")
    mobile_page.get_by_label("Email").fill(data["member"].email)
    mobile_page.get_by_label("Password").fill(PASSWORD)
    mobile_page.get_by_role("button", name="Log in").click()
    mobile_page.wait_for_url("**/account/")
    member = {
        "account": "/account/",
        "my-reports": "/account/reports/",
        "own-report": f"/big-five/results/{data['second'].public_id}/",
        "compare": f"/big-five/compare/{data['joined'].public_id}/",
        "compare-waiting": f"/big-five/compare/{data['waiting'].public_id}/",
        "gems": "/account/gems/",
        "catalog": "/account/gems/catalog/",
        "redeem": f"/account/gems/redeem/confirm/?product={data['product'].pk}",
        "scan": "/account/gems/scan/",
        "goal": "/account/gems/goals/new/",
        "test-member": "/big-five/",
    }
    for name, path in member.items():
        check(mobile_page, path, name)

    # Tables become stacked lists: the change since the report before is on screen, not off to the side.
    mobile_page.goto(f"/big-five/results/{data['second'].public_id}/")
    change = mobile_page.locator(".bf-table .bf-change").first
    assert change.is_visible() and change.bounding_box()["x"] + change.bounding_box()["width"] <= 375
    # Facet names never overlap their percentiles.
    for facet in mobile_page.locator(".bf-facet-head").all()[:30]:
        name_box = facet.locator(".bf-facet-name").bounding_box()
        score_box = facet.locator(".bf-facet-score").bounding_box()
        overlap_x = min(name_box["x"] + name_box["width"], score_box["x"] + score_box["width"]) - max(
            name_box["x"], score_box["x"]
        )
        overlap_y = min(name_box["y"] + name_box["height"], score_box["y"] + score_box["height"]) - max(
            name_box["y"], score_box["y"]
        )
        assert overlap_x <= 0 or overlap_y <= 0
