"""The audience on a target customer profile's console page, and the audience-sync console."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import sync_roles
from accounts.tests.factories import StaffFactory
from integrations.models import AudienceSync, OutboxMessage
from integrations.tests.test_audiences import customer, refresh, take_test
from profiles.tests.factories import make_profile

pytestmark = pytest.mark.django_db


def staff_client(role: str) -> Client:
    sync_roles()
    user = StaffFactory()
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def profile_with_people(count: int):
    for i in range(count):
        person = customer(age=25 + i % 20)
        take_test(person, o=70 + i % 30, c=10 + i % 30)
    refresh()
    return make_profile(demographics={"ageRange": {"min": 25, "max": 45}}, interests=[], openness_min=70)


def page(client, profile):
    return client.get(reverse("admin:profiles_targetcustomerprofile_change", args=[profile.pk]))


def test_the_profile_page_shows_the_audience_with_histograms_and_a_constant_query_count():
    client = staff_client("Marketing")
    profile = profile_with_people(3)
    response = page(client, profile)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="fr-audience-size">3</span>' in html
    assert html.count('class="fr-histogram"') == 5
    assert "style=" not in html.split('id="fr-audience-title"')[1].split("</fieldset>")[0]  # CSP: no inline style
    assert "<script" not in html.split('id="fr-audience-title"')[1].split("</fieldset>")[0]
    with CaptureQueriesContext(connection) as few:
        page(client, profile)
    for _ in range(3):
        person = customer(age=30)
        take_test(person, o=90, c=20)
    refresh()
    with CaptureQueriesContext(connection) as more:
        assert '<span class="fr-audience-size">6</span>' in page(client, profile).content.decode()
    assert len(more) == len(few)


def test_staff_without_the_audience_permission_see_no_panel():
    profile = profile_with_people(1)
    html = page(staff_client("Ops"), profile).content.decode()
    assert "fr-audience-title" in html  # Ops runs the integrations (integrations.*)
    client = Client()
    user = StaffFactory()
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="change_targetcustomerprofile"))
    user.user_permissions.add(Permission.objects.get(codename="view_targetcustomerprofile"))
    client.force_login(user)
    response = page(client, profile)
    assert response.status_code == 200 and "fr-audience-title" not in response.content.decode()


def test_marketing_turns_the_sync_on_and_syncs_now_from_the_console(django_capture_on_commit_callbacks):
    client = staff_client("Marketing")
    profile = profile_with_people(2)
    response = client.post(
        reverse("admin:integrations_audiencesync_add") + f"?profile={profile.pk}",
        {"profile": str(profile.pk), "to_customerio": "on", "key": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sync = AudienceSync.objects.get(profile=profile)
    assert sync.to_customerio and not sync.to_kit and sync.key.startswith("audience_")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:integrations_audiencesync_changelist"),
            {"action": "sync_now", "_selected_action": [str(profile.pk)]},
            follow=True,
        )
    assert "Sync queued for" in response.content.decode()
    sync.refresh_from_db()
    assert (sync.last_entered, sync.members_customerio) == (2, 2)  # the suite runs tasks at commit (eager)
    assert OutboxMessage.objects.filter(event_name="audience_entered").count() == 2
    # A bad key is refused next to its field.
    other = make_profile(name="Other")
    response = client.post(
        reverse("admin:integrations_audiencesync_add"), {"profile": str(other.pk), "key": "Bad Key!"}
    )
    assert response.status_code == 200 and "lower-case letters" in response.content.decode()
