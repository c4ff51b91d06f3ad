"""The operator console as Marketing uses it, in a real browser at 1,440 px.

Every page of these journeys fits the screen (no horizontal scrolling, in the page or in a table), has no
serious or critical accessibility violation (axe-core) and shows no Python object's repr; a screenshot of
each is written to ``artifacts/e2e/console-*.png``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from accounts.roles import sync_roles
from accounts.tests.factories import StaffFactory
from experiments.models import Experiment
from profiles.models import ProfileContainer, TargetCustomerProfile
from profiles.tests.factories import make_budget, make_guidelines, make_profile
from tests.e2e.conftest import BYPASS_CSP, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct-horse-42"
WIDTH = 1440

# What scrolls sideways: the page itself, or any layout box in the content (a table's wrapper, a fieldset).
# A list box or text box scrolling its own long entries is the control's behaviour, not the page's layout.
OVERFLOW_JS = """() => {
  const found = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth) found.push(`page: ${page.scrollWidth} > ${page.clientWidth}`);
  for (const el of document.querySelectorAll('#content *:not(select):not(textarea)')) {
    const style = getComputedStyle(el);
    if (['auto', 'scroll'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
    }
  }
  return found;
}"""


@pytest.fixture
def console(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTH, "height": 900}, bypass_csp=BYPASS_CSP
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def marketer(db):
    sync_roles()
    user = StaffFactory(email="marketer@focusedroom.local", password=PASSWORD)
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


def log_in(page, user) -> None:
    page.goto("/admin/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def check(page, name: str) -> None:
    """The page fits 1,440 px, passes axe-core and shows no object repr; its screenshot is kept."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate(OVERFLOW_JS) == [], name
    assert serious_accessibility_violations(page) == [], name
    assert "object at 0x" not in page.content(), name
    screenshot(page, f"console-{name}")


def pick(page, field: str, term: str) -> list[str]:
    """Open a container's autocomplete, type ``term``; returns the offered records and picks the first."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(term)
    options = page.locator(".select2-container--open .select2-results__option:not(.loading-results)")
    options.first.wait_for()
    page.wait_for_load_state("networkidle")
    offered = options.all_inner_texts()
    options.first.click()
    return offered


def test_marketing_creates_an_experiment_in_percent_and_starts_it_from_its_page(console, marketer):
    page = console
    log_in(page, marketer)
    check(page, "dashboard")

    page.goto("/admin/experiments/experiment/add/")
    page.locator("#id_name").fill("Report CTA wording")
    assert page.locator("#id_name").evaluate("e => e.tagName") == "INPUT"  # one line, not a text area
    page.locator("#id_variants-0-name").fill("control")
    page.locator("#id_variants-0-weight_percent").fill("50")
    page.locator("#id_variants-0-is_control").check()
    page.locator("#id_variants-1-name").fill("bold")
    page.locator("#id_variants-1-weight_percent").fill("40")
    total = page.locator("#variant-weight-total")
    assert "Total: 90 %" in total.inner_text() and "10 % still to give" in total.inner_text()
    page.locator("#id_variants-1-weight_percent").fill("50")
    assert total.inner_text() == "Total: 100 % ✓"
    page.locator("#id_variants-1-config_json").fill('{"headline": "Know yourself in 10 minutes"}')
    check(page, "experiment-add")
    page.locator("input[name=_continue]").click()
    page.wait_for_url("**/change/")

    experiment = Experiment.objects.get(name="Report CTA wording")
    variants = list(experiment.variants.order_by("position"))
    assert [(v.position, v.name, v.weight, v.is_control) for v in variants] == [
        (0, "control", Decimal("0.5000"), True),
        (1, "bold", Decimal("0.5000"), False),
    ]
    assert variants[0].config_json == {} and variants[1].config_json == {"headline": "Know yourself in 10 minutes"}
    assert page.locator("#variant-weight-total").inner_text() == "Total: 100 % ✓"
    check(page, "experiment-draft")

    page.get_by_role("link", name="Start", exact=True).click()
    assert page.get_by_text("Its variants freeze").is_visible()
    check(page, "experiment-start-confirm")
    page.get_by_role("button", name="Yes, start it").click()
    page.wait_for_url(f"**/admin/experiments/experiment/{experiment.pk}/change/")
    experiment.refresh_from_db()
    assert experiment.status == "running"
    assert "is now running" in page.locator(".messagelist").inner_text()
    assert page.get_by_role("link", name="Pause", exact=True).is_visible()
    assert page.get_by_role("link", name="Start", exact=True).count() == 0
    assert page.locator("#id_variants-0-weight_percent").count() == 0  # the variants are frozen
    check(page, "experiment-running")

    page.get_by_role("link", name="View results").first.click()
    page.wait_for_url(f"**/admin/experiments/experiment/{experiment.pk}/results/")
    assert "Report CTA wording" in page.locator("#content").inner_text()

    page.goto("/admin/experiments/experiment/")
    assert page.get_by_role("link", name="Report CTA wording").is_visible()
    check(page, "experiments-list")


def test_marketing_creates_a_target_profile_through_the_structured_form(console, marketer):
    page = console
    log_in(page, marketer)
    page.goto("/admin/profiles/targetcustomerprofile/add/")
    page.locator("#id_account_id").fill("acme-fitness")
    page.locator("#id_name").fill("Weekend runners")
    page.locator("#id_description").fill("Amateur runners training for their first marathon")
    page.locator("#id_interests").fill("running, nutrition")
    page.get_by_label("Age from").fill("25")
    page.get_by_label("Age to").fill("45")
    page.get_by_label("Gender").select_option("female")
    page.get_by_label("Countries").fill("pt, es")
    page.get_by_label("Cities").fill("Lisbon\nPorto")
    page.get_by_label("Education").select_option("bachelors")
    page.get_by_label("Mobile").check()
    page.get_by_label("Desktop").check()
    page.get_by_label("Online activity").select_option("active")
    page.get_by_label("Persona name").fill("Marathon Maya")
    page.get_by_label("Motivations").fill("health\nachievement")
    page.get_by_label("Pain points").fill("lack of time")
    for box in ("demographics", "behavior", "persona", "metadata"):
        assert page.locator(f"#id_{box}__json").input_value() == ""  # no JSON typed anywhere
    check(page, "profile-add")
    page.locator("input[name=_continue]").click()
    page.wait_for_url("**/change/")

    profile = TargetCustomerProfile.objects.get(account_id="acme-fitness")
    assert profile.demographics == {
        "ageRange": {"min": 25, "max": 45},
        "gender": "female",
        "location": {"countries": ["PT", "ES"], "cities": ["Lisbon", "Porto"]},
        "educationLevel": "bachelors",
    }
    assert profile.behavior == {"devicePreferences": ["mobile", "desktop"], "onlineActivityLevel": "active"}
    assert profile.persona == {
        "name": "Marathon Maya",
        "motivations": ["health", "achievement"],
        "painPoints": ["lack of time"],
    }
    assert profile.interests == ["running", "nutrition"] and profile.created_by_id is not None
    assert page.get_by_label("Age to").input_value() == "45"
    check(page, "profile-change")


def test_marketing_builds_a_container_from_autocompletes_limited_to_the_account(console, marketer):
    mine = {
        "profile": make_profile(account_id="acme-fitness", name="Weekend runners"),
        "guidelines": make_guidelines(account_id="acme-fitness", brand_name="Acme Fitness"),
        "budget": make_budget(account_id="acme-fitness", name="Marathon season"),
    }
    make_profile(account_id="northwind-books", name="Weekend readers")
    make_guidelines(account_id="northwind-books", brand_name="Acme Fitness")  # same name, other account
    make_budget(account_id="northwind-books", name="Holiday reads")

    page = console
    log_in(page, marketer)
    page.goto("/admin/profiles/profilecontainer/add/")
    page.locator("#id_account_id").fill("acme-fitness")
    page.locator("#id_name").fill("Spring campaign")
    assert pick(page, "customer_profile", "Weekend") == ["Weekend runners"]
    assert pick(page, "brand_guidelines", "Acme") == ["Acme Fitness"]  # one: the other account's is not offered
    assert pick(page, "budget", "") == ["Marathon season"]
    check(page, "container-add")
    page.locator("input[name=_continue]").click()
    page.wait_for_url("**/change/")

    container = ProfileContainer.objects.get(name="Spring campaign")
    assert (container.account_id, container.is_complete) == ("acme-fitness", True)
    assert (container.customer_profile, container.brand_guidelines, container.budget) == (
        mine["profile"],
        mine["guidelines"],
        mine["budget"],
    )
    check(page, "container-change")

    page.goto("/admin/profiles/profilecontainer/")
    check(page, "containers-list")


def test_a_first_time_account_is_set_up_in_the_guided_form(console, marketer):
    page = console
    log_in(page, marketer)
    page.goto("/admin/profiles/profilecontainer/")
    page.get_by_role("link", name="Set up a new account").click()
    page.locator("#id_account_id").fill("first-timer")
    page.locator("#id_customer_profile__name").fill("Night-owl readers")
    page.get_by_label("Age from").fill("18")
    page.get_by_label("Age to").fill("34")
    page.get_by_label("Persona name").fill("Late-night Leo")
    page.locator("#id_brand_guidelines__brand_name").fill("Northwind Books")
    page.locator("#id_brand_guidelines__high_level_guidelines_colors_primary_0_name").fill("Ink")
    page.locator("#id_brand_guidelines__high_level_guidelines_colors_primary_0_hex").fill("#1F2937")
    swatch = page.locator(
        "#id_brand_guidelines__high_level_guidelines_colors_primary_0_hex >> xpath=preceding-sibling::*[1]"
    )
    assert swatch.locator("rect").get_attribute("fill") == "#1F2937"
    page.locator("#id_budget__name").fill("Holiday reads")
    page.locator("#id_budget__amount").fill("2500")
    check(page, "account-setup")
    page.get_by_role("button", name="Create the account's default container").click()
    page.wait_for_url("**/change/")

    container = ProfileContainer.objects.get(account_id="first-timer")
    assert (container.is_default, container.is_complete) == (True, True)
    assert container.customer_profile.demographics == {"ageRange": {"min": 18, "max": 34}}
    assert container.brand_guidelines.high_level_guidelines == {
        "colors": {"primary": [{"name": "Ink", "hex": "#1F2937"}]}
    }
    assert "is set up" in page.locator(".messagelist").inner_text()


def test_every_list_and_add_form_of_the_console_fits_1440_px(console, django_user_model):
    """As a superuser, with the demo data: every changelist and add form fits without scrolling sideways."""
    from django.contrib import admin
    from django.core.management import call_command
    from django.urls import reverse

    call_command("seed_demo", scale=20, stdout=None)
    superuser = django_user_model.objects.create_superuser("root@focusedroom.local", PASSWORD)
    log_in(console, superuser)
    overflowing = {}
    for model, model_admin in admin.site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        paths = [reverse("admin:{}_{}_changelist".format(*info))]
        if model_admin.has_add_permission(type("Request", (), {"user": superuser})()):
            paths.append(reverse("admin:{}_{}_add".format(*info)))
        for path in paths:
            console.goto(path)
            found = console.evaluate(OVERFLOW_JS)
            if found:
                overflowing[path] = found
    assert overflowing == {}
