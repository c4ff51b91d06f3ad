"""Hardening: a Content-Security-Policy on every response that the pages really keep (no inline script
or style anywhere), and interactive API docs that production shows to staff only unless configured."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from focusedroom.tests.test_settings_rules import PRODUCTION, run_python

ROOT = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(ld\+)?json\")[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style[\s>]|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)


def page_templates() -> list[Path]:
    """Every template a browser renders (emails are exempt: mail clients, not the site, show them)."""
    found = [p for p in (ROOT / "templates").rglob("*.html") if "emails" not in p.parts]
    for app in ("accounts", "engagement", "experiments", "rewards", "profiles", "integrations", "focusedroom"):
        found += list((ROOT / app).rglob("templates/**/*.html"))
    return found


def test_no_template_has_an_inline_script_style_or_handler():
    offenders = []
    for path in page_templates():
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_STYLE.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/big-five/", "/accounts/login/", "/accounts/signup/", "/admin/login/", "/api/docs/", "/api/v1/me/"],
)
def test_every_response_carries_the_policy(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert policy == settings.CONTENT_SECURITY_POLICY and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if response["Content-Type"].startswith("text/html"):
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html), path


@pytest.mark.django_db
def test_rendered_member_pages_and_console_keep_the_policy(client, admin_user):
    from accounts.tests.factories import CustomerFactory
    from engagement.tests.helpers import submit

    member = CustomerFactory(password="correct-horse-42")
    result = submit(email=member.email)
    client.force_login(member)
    for path in ("/account/", f"/big-five/results/{result.public_id}/", "/big-five/"):
        html = client.get(path).content.decode()
        assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html), path
    client.force_login(admin_user)
    for path in ("/admin/", "/admin/accounts/customer/", f"/admin/accounts/customer/{member.pk}/change/"):
        html = client.get(path).content.decode()
        assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html), path


DOCS_PROBE = """
import django
django.setup()
from focusedroom.urls import urlpatterns
views = [p.callback.view_class for p in urlpatterns if getattr(p, "name", "") in ("api-docs", "api-schema")]
print(sorted({c.__name__ for view in views for c in view.permission_classes}))
"""


@pytest.mark.parametrize(("public", "permissions"), [("", "['IsAdminUser']"), ("true", "['AllowAny']")])
def test_production_shows_the_api_docs_to_staff_only_unless_configured(public, permissions):
    env = dict(PRODUCTION)
    if public:
        env["API_DOCS_PUBLIC"] = public
    result = run_python(DOCS_PROBE, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == permissions


def test_outside_production_the_docs_are_public():
    assert settings.API_DOCS_PUBLIC
