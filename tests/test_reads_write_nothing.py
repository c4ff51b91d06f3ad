"""A GET writes nothing: every member page and every ``GET /api/v1/me/…`` leaves every table as it was.

Counted by PostgreSQL itself (``pg_stat_xact_user_tables``: rows inserted, updated and deleted in the
current transaction, per table), so a write to any table of any app is caught — not only the ones a
test thought of. The session and the throttle counters (focusedroom.counters, a table of their own) are the documented
exceptions: they are the request's bookkeeping, not data about the person.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import get_resolver
from rest_framework.test import APIClient

from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.tests.helpers import submit
from focusedroom.context import RequestContext

ALLOWED = {"django_session", "focusedroom_counter"}
PAGES = [
    "/account/",
    "/account/reports/",
    "/account/gems/",
    "/account/gems/catalog/",
    "/account/gems/scan/",
    "/account/gems/goals/new/",
]


def _writes() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return {name: n for name, n in cursor.fetchall() if n}


def _changed(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0) and t not in ALLOWED}


def _me_endpoints() -> list[str]:
    """Every ``/api/v1/me/…`` URL without parameters, found in the URL configuration."""
    found = set()

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, route)
            elif route.startswith("api/v1/me/") and "<" not in route and "(?P" not in route:
                found.add("/" + route.replace("^", "").replace("$", "").replace("\\.", "."))

    walk(get_resolver().url_patterns)
    return sorted(u for u in found if "format" not in u)


@pytest.fixture
def member(db):
    person = CustomerFactory(password="correct-horse-42", is_email_verified=True)
    submit(email=person.email, context=RequestContext.system(source="page"))  # a report, a wallet, gems
    return person


@pytest.mark.django_db
def test_the_me_endpoints_are_found():
    endpoints = _me_endpoints()
    assert "/api/v1/me/" in endpoints and "/api/v1/me/wallet/" in endpoints and len(endpoints) >= 8


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["member", "new_member", "staff"])
def test_member_pages_and_me_endpoints_write_nothing(who, member, client):
    person = {"member": member, "new_member": CustomerFactory(), "staff": StaffFactory()}[who]
    client.force_login(person)  # the log-in (and its documented daily reward) happens before counting
    api = APIClient()
    api.force_authenticate(person)
    for url in PAGES:
        before = _writes()
        response = client.get(url)
        assert response.status_code in (200, 302, 404), (url, response.status_code)
        assert _changed(before, _writes()) == {}, url
    for url in _me_endpoints():
        before = _writes()
        response = api.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert _changed(before, _writes()) == {}, url


@pytest.mark.django_db
def test_the_counter_sees_a_write(member, client):
    client.force_login(member)
    before = _writes()
    assert client.post("/account/gems/referral-code/").status_code in (200, 302)
    CustomerFactory()
    changed = _changed(before, _writes())
    assert "accounts_user" in changed


@pytest.mark.django_db
def test_a_profiles_audience_writes_nothing(member, client):
    """The audience endpoint and the profile's console page (with its audience panel) write no row."""
    from accounts.roles import sync_roles
    from integrations import services as integrations_services
    from profiles.tests.factories import make_profile

    sync_roles()
    staff = StaffFactory(is_superuser=True)
    profile = make_profile(openness_min=1)
    integrations_services.audience_sync_configure(profile=profile, to_customerio=True, to_kit=True)
    client.force_login(staff)
    api = APIClient()
    api.force_authenticate(staff)
    for get in (
        lambda: api.get(f"/api/v1/customer-profiles/{profile.pk}/audience/"),
        lambda: client.get(f"/admin/profiles/targetcustomerprofile/{profile.pk}/change/"),
    ):
        before = _writes()
        assert get().status_code == 200
        assert _changed(before, _writes()) == {}
