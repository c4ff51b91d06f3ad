"""GDPR: the profiles part of a person's export, and an erasure that keeps "who did it"."""

from __future__ import annotations

import json

import pytest

from accounts import gdpr_services
from accounts.tests.factories import StaffFactory
from focusedroom import registries
from profiles import gdpr, services
from profiles.models import ProfileVersion, TargetCustomerProfile
from profiles.tests.factories import make_budget, make_container, make_profile

pytestmark = pytest.mark.django_db


def test_export_lists_the_records_and_versions_a_person_wrote():
    alice, bob = StaffFactory(), StaffFactory()
    created = make_profile(actor=alice)
    changed_by_bob = make_budget(actor=alice)
    services.record_update(record=changed_by_bob, changes={"name": "Bob's"}, expected_version=1, actor=bob)
    container = make_container(actor=bob, complete=False)
    services.record_update(record=container, changes={"name": "Alice's"}, expected_version=1, actor=alice)
    usage, _ = services.campaign_usage_record(
        campaign_id="spring", account_id="acct-1", usage_type="CONTAINER", container=container, actor=alice
    )
    make_profile(actor=bob, name="Not Alice's")
    deleted = make_profile(actor=alice, name="Gone")
    services.record_soft_delete(record=deleted, actor=bob)

    part = gdpr.export(user=alice)

    assert json.loads(json.dumps(part)) == part  # JSON-ready as it is
    records = part["campaign_records"]
    assert records["target_customer_profiles"] == [
        {"id": str(created.pk), "created_by_me": True, "last_changed_by_me": True},
        {"id": str(deleted.pk), "created_by_me": True, "last_changed_by_me": False},  # deleted ones too
    ]
    assert records["budgets"] == [{"id": str(changed_by_bob.pk), "created_by_me": True, "last_changed_by_me": False}]
    assert records["customer_profile_containers"] == [
        {"id": str(container.pk), "created_by_me": False, "last_changed_by_me": True}
    ]
    assert records["campaign_profile_usage"] == [
        {"id": str(usage.pk), "created_by_me": True, "last_changed_by_me": True}
    ]
    assert records["brand_guidelines"] == []
    written = {(v["type"], v["id"], v["version"]) for v in part["versions_written"]}
    assert written == {
        ("target_customer_profiles", str(created.pk), 1),
        ("budgets", str(changed_by_bob.pk), 1),
        ("customer_profile_containers", str(container.pk), 2),
        ("target_customer_profiles", str(deleted.pk), 1),
    }
    # The registered part is this one, so the person's full export contains it.
    assert registries.gdpr_parts.get("profiles").export is gdpr.export
    assert gdpr_services.person_export(user=alice)["parts"]["profiles"] == part


def test_erasure_keeps_the_records_pointing_at_the_pseudonymised_person():
    alice = StaffFactory()
    profile = make_profile(actor=alice)
    services.record_update(record=profile, changes={"name": "Renamed"}, expected_version=1, actor=alice)

    gdpr_services.person_erase(user=alice)

    profile.refresh_from_db()
    assert (profile.created_by_id, profile.updated_by_id, profile.version) == (alice.pk, alice.pk, 2)
    assert list(ProfileVersion.objects.filter(profile_id=profile.pk).values_list("created_by_id", flat=True)) == [
        alice.pk,
        alice.pk,
    ]
    assert TargetCustomerProfile.objects.get(pk=profile.pk).name == "Renamed"
    part = gdpr.export(user=alice)
    assert part["campaign_records"]["target_customer_profiles"][0]["id"] == str(profile.pk)
