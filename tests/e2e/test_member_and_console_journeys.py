"""A member's gems in the browser, and the operator console's roles in the browser."""

from decimal import Decimal

import pytest

from accounts.models import Brand, User
from accounts.roles import sync_roles
from accounts.tests.factories import CustomerFactory, StaffFactory
from experiments import services as experiments
from rewards.models import AchievementConfig, Product, Rank, Wallet
from tests.e2e.conftest import screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-42"


def log_in(page, email: str, path: str = "/accounts/login/") -> None:
    page.goto(path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_member_sees_gems_rank_and_achievements_then_scans_a_product(page):
    brand = Brand.objects.get(slug="focusedroom")
    Rank.objects.create(brand=brand, key="explorer", name="Explorer", points_required=0, point_multiplier="1.00")
    Rank.objects.create(brand=brand, key="seeker", name="Seeker", points_required=1000, point_multiplier="1.50")
    Product.objects.create(brand=brand, sku="FR-JOURNAL", name="Focus Journal", msrp="24.00", points_award=40)
    AchievementConfig.objects.create(
        brand=brand,
        name="First scan",
        achievement_key="first-scan",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
        rewards={"points": 15},
    )
    member = CustomerFactory(email="gems.member@example.com", password=PASSWORD)

    log_in(page, member.email)
    page.wait_for_url("**/account/")
    balance_before = Wallet.objects.get(user=member).balance
    assert page.locator(".gems-balance strong").inner_text() == str(balance_before)
    assert page.get_by_text("Explorer").first.is_visible()
    assert page.get_by_role("heading", name="Achievements").is_visible()
    assert serious_accessibility_violations(page) == []

    page.get_by_role("link", name="Scan a product").click()
    page.get_by_label("SKU").fill("NOPE-404")
    page.get_by_role("button", name="Earn gems").click()
    assert page.locator(".errorlist").first.is_visible()  # unknown SKU, said next to the field

    page.get_by_label("SKU").fill("FR-JOURNAL")
    page.get_by_role("button", name="Earn gems").click()
    assert "+40 Insight Gems" in page.locator(".messages").inner_text()

    page.goto("/account/")
    balance_after = Wallet.objects.get(user=member).balance
    assert balance_after == balance_before + 40 + 15  # the scan and the "First scan" achievement
    assert page.locator(".gems-balance strong").inner_text() == str(balance_after)
    screenshot(page, "journey3-member-gems")


def test_marketing_starts_an_experiment_and_reads_results_support_cannot(page):
    sync_roles()
    from django.contrib.auth.models import Group

    marketing = StaffFactory(email="marketer@focusedroom.local", password=PASSWORD)
    marketing.groups.add(Group.objects.get(name="Marketing"))
    support = StaffFactory(email="helper@focusedroom.local", password=PASSWORD)
    support.groups.add(Group.objects.get(name="Support"))
    experiment = experiments.experiment_create(
        data={"name": "Report CTA wording", "key": "report-cta"},
        variants=[{"name": "control", "weight": Decimal("0.5")}, {"name": "bold", "weight": Decimal("0.5")}],
    )

    log_in(page, marketing.email, "/admin/login/")
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", name="Running experiments").is_visible()
    page.goto("/admin/experiments/experiment/")
    page.get_by_role("row", name="Report CTA wording").get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(label="Start / resume selected experiments")
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()
    experiment.refresh_from_db()
    assert experiment.status == "running"

    page.goto(f"/admin/experiments/experiment/{experiment.pk}/results/")
    assert "Report CTA wording" in page.locator("#content").inner_text()
    assert page.locator("#content").get_by_text("bold").first.is_visible()
    screenshot(page, "journey4-marketing-results")

    page.context.clear_cookies()
    log_in(page, support.email, "/admin/login/")
    page.wait_for_url("**/admin/")
    response = page.goto(f"/admin/experiments/experiment/{experiment.pk}/results/")
    assert response.status == 403
    response = page.goto("/admin/experiments/experiment/")
    assert response.status == 403
    assert not page.get_by_role("heading", name="Running experiments").is_visible()
    assert User.objects.get(pk=support.pk).has_perm("accounts.view_customer")
    screenshot(page, "journey4-support-refused")
