"""Compare links: a member invites one person; the first member who joins with a report holds the link; only
the two of them see the comparison; either can revoke it. Pages, API, database rules and GDPR."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement import gdpr, services
from engagement.models import CompareLink, Event
from engagement.tests.helpers import form_post_data, random_answers, submit
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


def take(member, seed=1, **fields):
    return submit(context=RequestContext.system(source="page", actor=member), answers=random_answers(seed), **fields)


@pytest.fixture
def people():
    owner = CustomerFactory(first_name="Ada", name="Ada Owner")
    guest = CustomerFactory(first_name="Sam", name="Sam Guest")
    return owner, guest, take(owner, 1), take(guest, 2)


def invite_path(link):
    return services.compare_link_invite_path(link)


def test_owner_makes_a_link_from_their_report_page_and_sees_the_invitation(client, people):
    owner, _, owner_report, _ = people
    client.force_login(owner)
    report = client.get(reverse("bigfive-result", args=[owner_report.public_id])).content.decode()
    assert "Make a compare link" in report
    response = client.post(reverse("bigfive-compare-create", args=[owner_report.public_id]))
    link = CompareLink.objects.get()
    assert response["Location"] == reverse("bigfive-compare", args=[link.public_id])
    page = client.get(response["Location"]).content.decode()
    assert invite_path(link) in page and "Waiting for someone to join" in page
    assert Event.objects.filter(event_type="compare_link_created", user=owner).exists()


def test_only_the_owner_of_a_report_can_make_a_link_from_it(client, people):
    owner, guest, owner_report, _ = people
    client.force_login(guest)
    assert client.post(reverse("bigfive-compare-create", args=[owner_report.public_id])).status_code == 404
    with pytest.raises(NotFound):
        services.compare_link_create(owner=guest, result=owner_report, context=RequestContext.system())
    with pytest.raises(PermissionDenied):
        services.compare_link_create(owner=StaffFactory(), result=owner_report, context=RequestContext.system())
    assert not CompareLink.objects.exists()


def test_a_member_joins_and_both_see_the_profiles_side_by_side(client, people):
    owner, guest, owner_report, guest_report = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    client.force_login(guest)
    invitation = client.get(invite_path(link)).content.decode()
    assert "Ada invites you to compare" in invitation and "Compare with my report 1" in invitation
    response = client.post(invite_path(link))
    assert response["Location"] == reverse("bigfive-compare", args=[link.public_id])
    link.refresh_from_db()
    assert (link.guest, link.guest_result, link.joined_at is not None) == (guest, guest_report, True)
    seen_by_guest = client.get(response["Location"]).content.decode()
    assert "You and Ada" in seen_by_guest and seen_by_guest.count('class="bf-compare-row"') == 5
    assert seen_by_guest.count("Similar:") + seen_by_guest.count("Different:") == 5
    client.force_login(owner)
    seen_by_owner = client.get(response["Location"]).content.decode()
    assert "You and Sam" in seen_by_owner and invite_path(link) not in seen_by_owner


def test_nobody_else_sees_the_comparison_even_with_the_link(client, people):
    owner, guest, owner_report, _ = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    services.compare_link_join(link=link, guest=guest, context=RequestContext.system())
    third = CustomerFactory()
    take(third, 3)
    client.force_login(third)
    assert client.get(reverse("bigfive-compare", args=[link.public_id])).status_code == 404
    used = client.get(invite_path(link))
    assert used.status_code == 404 and "private to the two people" in used.content.decode()
    assert client.post(invite_path(link)).status_code == 404
    link.refresh_from_db()
    assert link.guest == guest
    client.logout()
    assert client.get(reverse("bigfive-compare", args=[link.public_id])).status_code == 302  # log in first


def test_a_visitor_is_asked_to_log_in_and_a_member_without_a_report_to_take_the_test(client, people):
    owner, _, owner_report, _ = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    anonymous = client.get(invite_path(link)).content.decode()
    assert "Log in" in anonymous and "Create my free account" in anonymous
    newcomer = CustomerFactory()
    client.force_login(newcomer)
    page = client.get(invite_path(link)).content.decode()
    test_url = f"/big-five/?compare={link.public_id}/{services.compare_link_signature(link.public_id)}"
    assert test_url in page
    form = client.get(test_url).content.decode()
    assert f'value="{link.public_id}/' in form  # the test leads back to the invitation
    response = client.post(
        "/big-five/", form_post_data(compare=f"{link.public_id}/{services.compare_link_signature(link.public_id)}")
    )
    assert response["Location"] == invite_path(link)


def test_a_badly_signed_or_revoked_link_is_refused(client, people):
    owner, guest, owner_report, _ = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    bad = reverse("bigfive-compare-invite", args=[link.public_id, "0" * 32])
    assert client.get(bad).status_code == 404
    with pytest.raises(NotFound):
        services.compare_link_for_invite(public_id=link.public_id, signature="0" * 32)
    services.compare_link_revoke(link=link, user=owner, context=RequestContext.system())
    client.force_login(guest)
    assert client.get(invite_path(link)).status_code == 404
    with pytest.raises(NotFound):
        services.compare_link_join(link=link, guest=guest, context=RequestContext.system())


def test_either_side_can_revoke_and_then_neither_sees_the_profiles(client, people):
    owner, guest, owner_report, _ = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    services.compare_link_join(link=link, guest=guest, context=RequestContext.system())
    client.force_login(guest)
    response = client.post(reverse("bigfive-compare-revoke", args=[link.public_id]))
    assert response["Location"] == reverse("my-reports")
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == guest
    for person in (owner, guest):
        client.force_login(person)
        page = client.get(reverse("bigfive-compare", args=[link.public_id])).content.decode()
        assert "was revoked" in page and 'class="bf-compare-row"' not in page
    other = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    services.compare_link_join(link=other, guest=guest, context=RequestContext.system())
    client.force_login(owner)
    client.post(reverse("bigfive-compare-revoke", args=[other.public_id]))
    other.refresh_from_db()
    assert other.revoked_by == owner
    stranger = CustomerFactory()
    client.force_login(stranger)
    assert client.post(reverse("bigfive-compare-revoke", args=[other.public_id])).status_code == 404


def test_own_link_cannot_be_joined_and_open_links_are_limited(people):
    owner, _, owner_report, _ = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    with pytest.raises(ValidationError):
        services.compare_link_join(link=link, guest=owner, context=RequestContext.system())
    for _ in range(services.COMPARE_OPEN_LINKS_MAX - 1):
        services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    with pytest.raises(Conflict):
        services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())


def test_the_database_refuses_a_link_with_someone_elses_report_or_a_half_joined_one(people):
    owner, guest, owner_report, guest_report = people
    with transaction.atomic(), pytest.raises(IntegrityError):
        CompareLink.objects.create(owner=owner, owner_result=guest_report)
    link = CompareLink.objects.create(owner=owner, owner_result=owner_report)
    with transaction.atomic(), pytest.raises(IntegrityError):
        CompareLink.objects.filter(pk=link.pk).update(guest=guest, guest_result=owner_report)
    with transaction.atomic(), pytest.raises(IntegrityError):
        CompareLink.objects.filter(pk=link.pk).update(guest=guest)  # joined without a report or a date
    with transaction.atomic(), pytest.raises(IntegrityError):
        CompareLink.objects.filter(pk=link.pk).update(guest=owner, guest_result=owner_report)


def test_gdpr_export_holds_and_erasure_removes_the_persons_compare_links(people):
    owner, guest, owner_report, _ = people
    link = services.compare_link_create(owner=owner, result=owner_report, context=RequestContext.system())
    services.compare_link_join(link=link, guest=guest, context=RequestContext.system())
    exported = gdpr.export(user=guest)["compare_links"]
    assert exported == [
        {
            "id": link.public_id,
            "role": "guest",
            "report_id": 1,
            "created_at": exported[0]["created_at"],
            "joined_at": exported[0]["joined_at"],
            "revoked_at": None,
        }
    ]
    assert gdpr.export(user=owner)["compare_links"][0]["role"] == "owner"
    gdpr.erase(user=guest)
    assert not CompareLink.objects.exists()


def test_api_create_join_see_and_revoke(api_client, people):
    owner, guest, owner_report, guest_report = people
    api_client.force_authenticate(owner)
    made = api_client.post("/api/v1/me/compare-links/", {"report": owner_report.public_id})
    assert made.status_code == 201
    body = made.json()
    assert body["role"] == "owner" and body["status"] == "waiting" and body["comparison"] == []
    link_id, signature = body["invite_url"].rstrip("/").split("/")[-2:]
    assert api_client.post("/api/v1/me/compare-links/", {"report": guest_report.public_id}).status_code == 404

    api_client.force_authenticate(guest)
    joined = api_client.post("/api/v1/me/compare-links/join/", {"link": link_id, "signature": signature})
    assert joined.status_code == 200
    assert joined.json()["status"] == "compared" and joined.json()["other_name"] == "Ada"
    assert len(joined.json()["comparison"]) == 5 and joined.json()["invite_url"] is None
    assert [p["name"] for p in joined.json()["comparison"][0]["people"]] == ["You", "Ada"]

    stranger = CustomerFactory()
    api_client.force_authenticate(stranger)
    assert api_client.get(f"/api/v1/me/compare-links/{link_id}/").status_code == 404
    assert (
        api_client.post("/api/v1/me/compare-links/join/", {"link": link_id, "signature": signature}).status_code == 404
    )
    assert api_client.get("/api/v1/me/compare-links/").json() == []

    api_client.force_authenticate(owner)
    assert api_client.get(f"/api/v1/me/compare-links/{link_id}/").json()["other_name"] == "Sam"
    revoked = api_client.post(f"/api/v1/me/compare-links/{link_id}/revoke/")
    assert revoked.json()["status"] == "revoked" and revoked.json()["comparison"] == []
    api_client.force_authenticate(guest)
    assert api_client.get("/api/v1/me/compare-links/").json()[0]["status"] == "revoked"
