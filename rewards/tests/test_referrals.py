"""Referral codes, the /r/<code>/ link, pending referrals, conversion, self-referral, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts import signals as accounts_signals
from accounts.models import User
from focusedroom.context import RequestContext
from rewards import services
from rewards.models import LedgerEntry, Referral, Wallet


@pytest.mark.django_db
def test_referral_code_is_unique_and_unguessable(make_member):
    a, b = make_member(), make_member()
    code_a = services.referral_code_ensure(user=a)[0]
    assert services.referral_code_ensure(user=a)[0].pk == code_a.pk
    assert code_a.code != services.referral_code_ensure(user=b)[0].code
    assert len(code_a.code) >= 11


@pytest.mark.django_db
def test_referral_link_sets_a_30_day_cookie_and_goes_to_the_test(client, make_member):
    code = services.referral_code_ensure(user=make_member())[0]
    response = client.get(f"/r/{code.code}/")
    assert response.status_code == 302 and response["Location"] == "/big-five/"
    cookie = response.cookies["fr_ref"]
    assert cookie.value == code.code and int(cookie["max-age"]) == 30 * 24 * 3600 and cookie["httponly"]
    unknown = client.get("/r/not-a-code/")
    assert unknown.status_code == 302 and "fr_ref" not in unknown.cookies


@pytest.mark.django_db
def test_sign_up_with_the_cookie_creates_a_pending_referral_that_converts_once_on_verification(client, make_member):
    referrer = make_member()
    code = services.referral_code_ensure(user=referrer)[0]
    client.get(f"/r/{code.code}/")
    signup = client.get("/accounts/signup/")
    assert code.code in signup.content.decode()  # the form is pre-filled from the cookie
    client.post(
        "/accounts/signup/", {"email": "friend@example.com", "password": "s3cure-pass-42", "referral_code": code.code}
    )
    referee = User.objects.get(email="friend@example.com")
    referral = Referral.objects.get(referee=referee)
    assert referral.status == "pending" and referral.referrer == referrer and referral.email == "friend@example.com"
    assert referral.expires_at > timezone.now() + timedelta(days=29)
    for _ in range(2):
        accounts_signals.email_verified.send(sender=User, user=referee, request=None)
    referral.refresh_from_db()
    assert referral.status == "converted" and referral.points_awarded_to_referrer == 200
    assert LedgerEntry.objects.filter(reason="referral_referrer", wallet__user=referrer).count() == 1
    assert LedgerEntry.objects.filter(reason="referral_referee", wallet__user=referee).count() == 1
    assert Wallet.objects.get(user=referrer).balance == 300


@pytest.mark.django_db
def test_person_identified_with_the_cookie_creates_a_pending_referral(rf, make_member):
    referrer = make_member()
    code = services.referral_code_ensure(user=referrer)[0]
    request = rf.post("/big-five/")
    request.COOKIES["fr_ref"] = code.code
    context = RequestContext.from_request(request)
    user, created = accounts_services.person_identify(email="quiz.taker@example.com", context=context)
    assert created and Referral.objects.get(referee=user).referrer == referrer
    # An existing person identifying again is not a new person: nothing more.
    accounts_services.person_identify(email="quiz.taker@example.com", context=context)
    assert Referral.objects.filter(referee=user).count() == 1


@pytest.mark.django_db
def test_self_referral_is_refused_for_the_same_person_or_the_same_mailbox(make_member):
    referrer = make_member(email="ana@example.com")
    code = services.referral_code_ensure(user=referrer)[0].code
    with pytest.raises(ValidationError, match="yourself"):
        services.referral_create_pending(referee=referrer, code=code)
    alias = make_member(email="ana+second@example.com")
    with pytest.raises(ValidationError, match="yourself"):
        services.referral_create_pending(referee=alias, code=code)
    with pytest.raises(ValidationError, match="not valid"):
        services.referral_create_pending(referee=alias, code="nope")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(
            referrer=referrer,
            referee=referrer,
            referral_code=code,
            email=referrer.email,
            brand=services.brand_default(),
            expires_at=timezone.now(),
        )


@pytest.mark.django_db
def test_a_bad_code_at_sign_up_never_blocks_the_sign_up(client):
    response = client.post(
        "/accounts/signup/", {"email": "solo@example.com", "password": "s3cure-pass-42", "referral_code": "bogus"}
    )
    assert response.status_code == 200
    assert User.objects.filter(email="solo@example.com").exists() and not Referral.objects.exists()


@pytest.mark.django_db
def test_one_referral_per_new_person_in_the_database(make_member):
    a, b, new = make_member(), make_member(), make_member()
    first = services.referral_create_pending(referee=new, code=services.referral_code_ensure(user=a)[0].code)
    again = services.referral_create_pending(referee=new, code=services.referral_code_ensure(user=b)[0].code)
    assert again.pk == first.pk and again.referrer == a
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.create(
            referrer=b, referee=new, referral_code="x", email=new.email, brand=first.brand, expires_at=first.expires_at
        )


@pytest.mark.django_db
def test_expired_referrals_never_convert_and_the_command_expires_them(make_member, capsys):
    referrer, late, on_time = make_member(), make_member(), make_member()
    code = services.referral_code_ensure(user=referrer)[0].code
    stale = services.referral_create_pending(referee=late, code=code)
    Referral.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    fresh = services.referral_create_pending(referee=on_time, code=code)
    call_command("expire_referrals")
    assert "1 referral(s) expired" in capsys.readouterr().out
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == ("expired", "pending")
    assert services.referral_convert(referee=late) is None
    assert not LedgerEntry.objects.filter(reason__startswith="referral").exists()


@pytest.mark.django_db
def test_a_claimed_account_already_verified_converts_at_once(make_member):
    referrer = make_member()
    verified = make_member(is_email_verified=True)
    referral = services.referral_create_pending(
        referee=verified, code=services.referral_code_ensure(user=referrer)[0].code
    )
    assert referral.status == "converted"


@pytest.mark.django_db
def test_my_referrals_api_lists_only_mine_with_the_summary(member_client, member, make_member):
    code = services.referral_code_ensure(user=member)[0].code
    for _ in range(3):
        services.referral_create_pending(referee=make_member(), code=code)
    other = make_member()
    services.referral_create_pending(referee=make_member(), code=services.referral_code_ensure(user=other)[0].code)
    body = member_client.get("/api/v1/me/referrals/").json()
    assert body["count"] == 3 and body["summary"]["pending"] == 3 and body["summary"]["code"] == code
    assert body["summary"]["link"].endswith(f"/r/{code}/")
