"""Real-browser journeys: headless Debian Chromium driven by Playwright, against a live server on 127.0.0.1.

Chromium comes from Debian's package (`make test` installs it when missing); Playwright never downloads a
browser here. Where no Chromium binary exists at all, the journeys are skipped with that reason.
Screenshots of each journey's last page are written to ``artifacts/e2e/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests themselves are
# ordinary synchronous calls, so Django's async-safety guard is relaxed for this test package only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium'); `make test` installs it as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# The test tooling injects scripts (axe-core, wait_for_function polling) that the site's Content-Security-
# Policy rightly refuses; journeys run with the policy bypassed, and test_content_security_policy.py
# checks the real pages under the policy.
BYPASS_CSP = True


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1100, "height": 900}, bypass_csp=BYPASS_CSP
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def mobile_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 800}, is_mobile=True, bypass_csp=BYPASS_CSP
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_accessibility_violations(page) -> list[dict]:
    """axe-core (vendored) run in the page: violations of serious or critical impact."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# Every visible element must fit the viewport and the block that contains it (the "phone first" rule):
# nothing scrolls sideways, no text runs out of its box. SVG internals are judged by their <svg>.
OVERFLOW_SCRIPT = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0 || rect.right <= 0) continue;  // empty, or moved off screen on purpose
    if (rect.right > width + 0.5) {
      found.push(`${describe(el)} ends at ${Math.round(rect.right)} px, beyond the ${width} px viewport`);
      continue;
    }
    let parent = el.parentElement;
    while (parent && getComputedStyle(parent).display.startsWith('inline')) parent = parent.parentElement;
    if (!parent || parent === document.body) continue;
    const box = parent.getBoundingClientRect();
    const cs = getComputedStyle(parent);
    const inner = box.right - parseFloat(cs.borderRightWidth || 0);
    if (rect.right > inner + 1 && box.width > 0) {
      found.push(`${describe(el)} ends at ${Math.round(rect.right)} px, beyond its container ${describe(parent)} (${Math.round(inner)} px)`);
    }
  }
  if (document.documentElement.scrollWidth > width) found.push(`the page scrolls sideways (${document.documentElement.scrollWidth} px)`);
  return found;
}"""


def overflowing_elements(page) -> list[str]:
    """What sticks out on the current page: elements beyond the viewport or their container, and sideways scroll."""
    return page.evaluate(OVERFLOW_SCRIPT)
