"""Referral fraud rules (refused or held for review) and the review: approve pays, reject says why."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from engagement import services as engagement_services
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict, PermissionDenied
from focusedroom.testing import run_in_parallel
from rewards import services
from rewards.models import LedgerEntry, Referral, Wallet


def ctx(ip=None, visitor=""):
    return RequestContext(source="page", ip=ip, visitor_id=visitor)


@pytest.fixture
def referrer(make_member):
    return make_member(email="anna.berg@example.com")


@pytest.fixture
def code(referrer):
    return services.referral_code_ensure(user=referrer)[0].code


def dotted(i: int) -> str:
    """A different address for each i that is the referrer's "anna.berg@example.com" but for dots."""
    variants = []
    for bits in range(1, 128):
        local = "a" + "".join(("." if bits >> k & 1 else "") + ch for k, ch in enumerate("nnaberg"))
        if local != "anna.berg":
            variants.append(f"{local}@example.com")
    return variants[i]


def arrive(make_member, code, *, email=None, verified=False, context=None):
    kwargs = {"is_email_verified": verified}
    if email:
        kwargs["email"] = email
    referee = make_member(**kwargs)
    return services.referral_create_pending(referee=referee, code=code, context=context), referee


# ------------------------------------------------------------------------- the rules


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["anna.berg+promo@example.com", "Anna.Berg+Friends@Example.com"])
def test_the_same_mailbox_with_a_tag_is_refused_as_self_referral(make_member, code, email):
    with pytest.raises(ValidationError, match="refer yourself"):
        arrive(make_member, code, email=email)


@pytest.mark.django_db
def test_gmail_dots_are_the_same_mailbox_and_refused(make_member):
    referrer = make_member(email="j.doe@gmail.com")
    code = services.referral_code_ensure(user=referrer)[0].code
    with pytest.raises(ValidationError, match="refer yourself"):
        arrive(make_member, code, email="jdoe+x@googlemail.com")


@pytest.mark.django_db
def test_the_same_mailbox_but_for_dots_elsewhere_is_held(make_member, code):
    referral, _ = arrive(make_member, code, email="annaberg@example.com")
    assert referral.status == "held" and referral.hold_reasons == ["same_email"] and referral.held_at


@pytest.mark.django_db
def test_the_referrers_browser_is_held_as_same_device(make_member, referrer, code):
    engagement_services.event_record(event_type="page_view", user=referrer, anonymous_id="browser-0001")
    referral, _ = arrive(make_member, code, context=ctx(visitor="browser-0001"))
    assert referral.status == "held" and referral.hold_reasons == ["same_device"]
    other, _ = arrive(make_member, code, context=ctx(visitor="browser-0002"))
    assert other.status == "pending" and other.visitor_id == "browser-0002"
    ring, _ = arrive(make_member, code, context=ctx(visitor="browser-0002"))  # a second account, same browser
    assert ring.status == "held" and ring.hold_reasons == ["same_device"]


@pytest.mark.django_db
def test_the_same_address_within_the_window_is_held_and_not_after(make_member, referrer, code, default_brand):
    engagement_services.event_record(event_type="page_view", user=referrer, context=ctx(ip="203.0.113.7"))
    held, _ = arrive(make_member, code, context=ctx(ip="203.0.113.7"))
    assert held.status == "held" and held.hold_reasons == ["same_ip"]
    first, _ = arrive(make_member, code, context=ctx(ip="198.51.100.1"))
    second, _ = arrive(make_member, code, context=ctx(ip="198.51.100.1"))
    assert first.status == "pending" and second.hold_reasons == ["same_ip"]
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(hours=25)):
        later, _ = arrive(make_member, code, context=ctx(ip="198.51.100.1"))
    assert later.status == "pending"  # the window is 24 hours by default
    default_brand.settings = {"rewards": {"referral_ip_window_hours": 0}}
    default_brand.save()
    off, _ = arrive(make_member, code, context=ctx(ip="198.51.100.1"))
    assert off.status == "pending"


@pytest.mark.django_db
def test_more_conversions_a_day_than_the_limit_are_held_instead_of_paid(make_member, referrer, code, default_brand):
    default_brand.settings = {"rewards": {"referral_daily_limit": 2}}
    default_brand.save()
    results = [arrive(make_member, code, verified=True)[0] for _ in range(3)]
    assert [r.status for r in results] == ["converted", "converted", "held"]
    assert results[2].hold_reasons == ["daily_limit"]
    assert LedgerEntry.objects.filter(reason="referral_referrer", wallet__user=referrer).count() == 2
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=1, minutes=1)):
        fourth, _ = arrive(make_member, code, verified=True)
    assert fourth.status == "converted"


@pytest.mark.django_db(transaction=True)
def test_parallel_conversions_of_one_referrer_respect_the_daily_limit(make_member, default_brand):
    default_brand.settings = {"rewards": {"referral_daily_limit": 3}}
    default_brand.save()
    referrer = make_member()
    code = services.referral_code_ensure(user=referrer)[0].code
    referees = [make_member() for _ in range(8)]
    for referee in referees:
        services.referral_create_pending(referee=referee, code=code)

    def verify(i):
        return services.referral_convert(referee=referees[i])

    results, errors = run_in_parallel(8, verify)
    assert errors == []
    assert Referral.objects.filter(referrer=referrer, status="converted").count() == 3
    assert Referral.objects.filter(referrer=referrer, status="held", hold_reasons=["daily_limit"]).count() == 5
    assert LedgerEntry.objects.filter(reason="referral_referrer").count() == 3


@pytest.mark.django_db
def test_the_database_keeps_review_states_consistent(make_member, code):
    referral, _ = arrive(make_member, code)
    for bad in (
        {"status": "held"},  # no reason
        {"status": "rejected"},  # nobody reviewed, no note
        {"status": "cheating"},
        {"hold_reasons": ["unknown"]},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Referral.objects.filter(pk=referral.pk).update(**bad)


# ------------------------------------------------------------------------- the review


@pytest.mark.django_db
def test_approving_pays_a_verified_referee_and_rejecting_records_why(make_member, referrer, code, staff_with_perms):
    engagement_services.event_record(event_type="page_view", user=referrer, context=ctx(ip="203.0.113.9"))
    held, referee = arrive(make_member, code, verified=True, context=ctx(ip="203.0.113.9"))
    assert held.status == "held" and not LedgerEntry.objects.filter(reason="referral_referrer").exists()
    services.referral_convert(referee=referee)  # verification again: still waits for review
    assert Referral.objects.get(pk=held.pk).status == "held"
    reviewer = staff_with_perms("rewards.review_referral")
    with pytest.raises(PermissionDenied):
        services.referral_approve(referral=held, actor=StaffFactory())
    approved = services.referral_approve(referral=held, actor=reviewer, note="Flatmates")
    assert approved.status == "converted" and approved.reviewed_by == reviewer and approved.review_note == "Flatmates"
    assert LedgerEntry.objects.filter(reason="referral_referrer", wallet__user=referrer).count() == 1
    with pytest.raises(Conflict):
        services.referral_approve(referral=held, actor=reviewer)

    other, _ = arrive(make_member, code, context=ctx(ip="203.0.113.9"))
    with pytest.raises(ValidationError):
        services.referral_reject(referral=other, actor=reviewer, note=" ")
    rejected = services.referral_reject(referral=other, actor=reviewer, note="Same household, 5 accounts")
    assert rejected.status == "rejected" and rejected.review_note == "Same household, 5 accounts"
    assert Wallet.objects.get(user=referrer).balance == 100 + 200


@pytest.mark.django_db
def test_approving_an_unverified_referee_puts_it_back_to_pending_with_a_fresh_window(
    make_member, code, staff_with_perms
):
    held, referee = arrive(make_member, code, email="annaberg@example.com")
    approved = services.referral_approve(referral=held, actor=staff_with_perms("rewards.review_referral"))
    assert approved.status == "pending" and approved.expires_at > timezone.now() + timedelta(days=29)
    referee.is_email_verified = True
    referee.save()
    assert services.referral_convert(referee=referee).status == "converted"


@pytest.mark.django_db
def test_console_lists_held_referrals_with_reasons_and_acts_through_services(
    client, make_member, code, django_assert_max_num_queries
):
    staff = StaffFactory(is_superuser=True)
    held = [arrive(make_member, code, email=dotted(i))[0] for i in range(2)]
    assert [r.status for r in held] == ["held", "held"]
    client.force_login(staff)
    url = reverse("admin:rewards_referral_changelist")
    client.get(url)
    with django_assert_max_num_queries(12) as small:
        page = client.get(url, {"status__exact": "held"})
    assert page.status_code == 200
    budget = len(small.captured_queries)
    filtered = client.get(url, {"hold_reason": "same_ip"})
    assert filtered.status_code == 200 and not filtered.context["cl"].result_count
    form = client.post(url, {"action": "reject_referrals", "_selected_action": [held[0].pk]})
    assert form.status_code == 200 and b"Reject held referrals" in form.content
    refused = client.post(
        url, {"action": "reject_referrals", "_selected_action": [held[0].pk], "apply": "1", "note": ""}
    )
    assert refused.status_code == 200 and Referral.objects.get(pk=held[0].pk).status == "held"
    client.post(url, {"action": "reject_referrals", "_selected_action": [held[0].pk], "apply": "1", "note": "Ring"})
    client.post(url, {"action": "approve_referrals", "_selected_action": [held[1].pk], "apply": "1", "note": ""})
    assert Referral.objects.get(pk=held[0].pk).status == "rejected"
    assert Referral.objects.get(pk=held[1].pk).reviewed_by == staff
    for i in range(2, 8):
        arrive(make_member, code, email=dotted(i))
    with django_assert_max_num_queries(budget):
        assert client.get(url, {"status__exact": "held"}).context["cl"].result_count == 6


@pytest.mark.django_db
def test_staff_api_reviews_held_referrals(make_member, code, staff_client, member_client):
    held, _ = arrive(make_member, code, email="annaberg@example.com")
    assert member_client.get("/api/v1/referrals/").status_code == 403
    viewer = staff_client("rewards.view_referral")
    listed = viewer.get("/api/v1/referrals/?status=held").json()["results"]
    assert [(r["id"], r["hold_reasons"]) for r in listed] == [(held.pk, ["same_email"])]
    assert viewer.post(f"/api/v1/referrals/{held.pk}/reject/", {"note": "x"}, format="json").status_code == 403
    reviewer = staff_client("rewards.view_referral", "rewards.review_referral")
    assert reviewer.post(f"/api/v1/referrals/{held.pk}/reject/", {}, format="json").status_code == 400
    done = reviewer.post(f"/api/v1/referrals/{held.pk}/reject/", {"note": "Same person"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    again = reviewer.post(f"/api/v1/referrals/{held.pk}/approve/", {}, format="json")
    assert again.status_code == 409


@pytest.mark.django_db
def test_erasure_removes_the_address_and_browser_kept_on_a_received_referral(make_member, code):
    referral, referee = arrive(make_member, code, context=ctx(ip="198.51.100.4", visitor="browser-9999"))
    services.referral_data_erase(user=referee)
    referral.refresh_from_db()
    assert (referral.ip_address, referral.visitor_id) == (None, "")
