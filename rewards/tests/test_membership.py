"""Membership: reads write nothing, members are made where people join, staff are never members."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from accounts import signals as accounts_signals
from accounts.models import User
from accounts.tests.factories import StaffFactory
from engagement import signals as engagement_signals
from rewards import services
from rewards.models import (
    AchievementConfig,
    EngagementReward,
    LedgerEntry,
    MemberRank,
    ReferralCode,
    UserAchievement,
    Wallet,
)

LOYALTY_MODELS = (Wallet, LedgerEntry, ReferralCode, EngagementReward, MemberRank, UserAchievement)
PASSWORD = "correct-horse-42"

PAGES = ["/account/", "/account/gems/", "/account/gems/scan/", "/account/gems/catalog/", "/account/gems/goals/new/"]
API_READS = [
    "/api/v1/me/wallet/",
    "/api/v1/me/transactions/",
    "/api/v1/me/achievements/",
    "/api/v1/me/wishlist/",
    "/api/v1/me/goals/",
    "/api/v1/me/referrals/",
    "/api/v1/scans/",
    "/api/v1/redemptions/",
    "/api/v1/products/",
    "/api/v1/reward-items/",
]


def loyalty_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in LOYALTY_MODELS}


def signed_in(client, user):
    """A browser with an existing session: no log-in now, so no log-in reward."""
    session = client.session
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    return client


@pytest.fixture
def programme(ranks, product):
    AchievementConfig.objects.create(
        name="First scan",
        achievement_key="first-scan",
        achievement_type="scan_count",
        criteria={"metric": "scan_count", "operator": ">=", "value": 1},
        rewards={"points": 10},
    )
    return product


def _member_with_activity(make_member, product):
    member = make_member()
    services.product_scan(user=member, sku=product.sku)
    services.wishlist_add(user=member, product=product)
    services.goal_create(user=member, goal_name="Save", target_points=5000)
    return member


def _legacy_member_without_code(make_member, product):
    member = _member_with_activity(make_member, product)
    ReferralCode.objects.filter(user=member).delete()
    return member


# --------------------------------------------------------------------- reads write nothing


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["no wallet", "member", "wallet without a referral code"])
def test_pages_and_api_reads_write_nothing(client, make_member, programme, kind):
    if kind == "no wallet":
        member = make_member()
    elif kind == "member":
        member = _member_with_activity(make_member, programme)
    else:
        member = _legacy_member_without_code(make_member, programme)
    signed_in(client, member)
    api = APIClient()
    api.force_authenticate(member)
    goal = member.goals.first()
    before = loyalty_rows()
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    for url in API_READS + ([f"/api/v1/me/goals/{goal.pk}/"] if goal else []):
        assert api.get(url).status_code == 200, url
    assert loyalty_rows() == before


@pytest.mark.django_db
def test_a_member_without_a_wallet_reads_an_empty_one(client, make_member, programme):
    member = make_member()
    api = APIClient()
    api.force_authenticate(member)
    wallet = api.get("/api/v1/me/wallet/").json()
    assert (wallet["balance"], wallet["lifetime_earned"], wallet["updated_at"], wallet["ranks"]) == (0, 0, None, [])
    assert wallet["referral"] == {"code": None, "link": None, "pending": 0, "converted": 0, "expired": 0, "gems": 0}
    assert api.get("/api/v1/me/referrals/").json()["summary"]["code"] is None
    page = signed_in(client, member).get("/account/").content.decode()
    assert "gems to spend" in page and "Get my referral link" in page and "/r/" not in page
    history = client.get("/account/gems/").content.decode()
    assert "<strong>0</strong> gems to spend" in history and "No gems yet." in history
    assert not Wallet.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_the_referral_link_is_made_by_an_explicit_post(client, make_member, programme):
    member = _legacy_member_without_code(make_member, programme)
    signed_in(client, member)
    assert client.post("/account/gems/referral-code/").status_code == 302
    code = ReferralCode.objects.get(user=member, is_active=True)
    assert f"/r/{code.code}/" in client.get("/account/").content.decode()
    api = APIClient()
    api.force_authenticate(member)
    again = api.post("/api/v1/me/referral-code/")
    assert again.status_code == 200 and again.json()["code"] == code.code
    other = make_member()
    api.force_authenticate(other)
    made = api.post("/api/v1/me/referral-code/")
    assert made.status_code == 201 and made.json()["link"].endswith(f"/r/{made.json()['code']}/")
    assert ReferralCode.objects.filter(user=other).count() == 1


# ------------------------------------------------------------------- becoming a member


@pytest.mark.django_db
def test_sign_up_makes_the_wallet_welcome_credit_and_referral_code(client):
    response = client.post("/accounts/signup/", {"email": "joiner@example.com", "password": "s3cure-pass-42"})
    assert response.status_code == 200
    member = User.objects.get(email="joiner@example.com")
    assert Wallet.objects.get(user=member).entries.filter(reason="welcome").count() == 1
    assert ReferralCode.objects.filter(user=member, is_active=True).count() == 1


@pytest.mark.django_db
def test_a_test_submitted_with_an_email_makes_a_member(django_capture_on_commit_callbacks):
    from engagement.tests.helpers import random_answers

    with django_capture_on_commit_callbacks(execute=True):  # membership comes from the worker's task
        response = APIClient().post(
            "/api/v1/assessments/big-five/", {"answers": random_answers(1), "email": "taker@example.com"}, format="json"
        )
    assert response.status_code == 201
    member = User.objects.get(email="taker@example.com")
    wallet = Wallet.objects.get(user=member)
    assert set(wallet.entries.values_list("reason", flat=True)) == {"welcome", "quiz_completed"}
    assert ReferralCode.objects.filter(user=member, is_active=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_enrolments_make_one_wallet_one_welcome_credit_and_one_code(make_member):
    from focusedroom.testing import run_in_parallel

    member = make_member()
    results, errors = run_in_parallel(8, lambda i: services.member_enrol(user=member).pk)
    assert errors == [] and len(set(results)) == 1
    assert LedgerEntry.objects.filter(reason="welcome").count() == 1
    assert ReferralCode.objects.filter(user=member).count() == 1


# ---------------------------------------------------------------------------- staff


@pytest.fixture
def staff(db):
    return StaffFactory(password=PASSWORD)


@pytest.mark.django_db
def test_staff_log_in_and_visit_the_account_page_and_the_api_without_becoming_members(client, staff, programme):
    assert client.post("/accounts/login/", {"username": staff.email, "password": PASSWORD}).status_code == 302
    page = client.get("/account/")
    assert page.status_code == 200 and "Insight Gems" not in page.content.decode()
    for url in PAGES[1:]:
        assert client.get(url).status_code == 404, url
    assert client.post("/account/gems/daily/").status_code == 404
    assert client.post("/account/gems/referral-code/").status_code == 404
    client.logout()
    client.force_login(staff)  # the log-in signal again
    api = APIClient()
    api.force_authenticate(staff)
    assert api.get("/api/v1/me/wallet/").status_code == 404
    for url in API_READS[1:8]:
        response = api.get(url)
        assert response.status_code == 200 and response.json()["results"] == [], url
    assert api.get("/api/v1/me/referrals/").json()["summary"] is None
    refused = api.post("/api/v1/me/daily-reward/")
    assert refused.status_code == 400 and services.STAFF_REFUSAL in refused.json()["error"]["fields"]["user"]
    assert api.post("/api/v1/me/referral-code/").status_code == 400
    assert api.post("/api/v1/scans/", {"sku": programme.sku}).status_code == 400
    assert api.post("/api/v1/redemptions/", {"product": programme.pk}).status_code == 400
    assert api.post("/api/v1/me/wishlist/", {"product": programme.pk}).status_code == 400
    assert api.post("/api/v1/me/goals/", {"goal_name": "x", "target_points": 5}).status_code == 400
    assert {model.__name__: model.objects.filter(user=staff).count() for model in (Wallet, ReferralCode)} == {
        "Wallet": 0,
        "ReferralCode": 0,
    }
    assert not LedgerEntry.objects.filter(wallet__user=staff).exists()
    assert not MemberRank.objects.filter(user=staff).exists()
    assert not EngagementReward.objects.filter(user=staff).exists()
    assert not UserAchievement.objects.filter(user=staff).exists()


@pytest.mark.django_db
def test_staff_are_skipped_by_the_membership_receivers(staff):
    accounts_signals.person_signed_up.send(sender=User, user=staff, referral_code="", context=None)
    accounts_signals.person_identified.send(sender=User, user=staff, created=True, context=None)
    accounts_signals.email_verified.send(sender=User, user=staff, context=None)
    engagement_signals.quiz_completed.send(sender=None, result=None, user=staff, context=None)
    assert loyalty_rows() == {model.__name__: 0 for model in LOYALTY_MODELS}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "call",
    [
        lambda staff, product: services.member_enrol(user=staff),
        lambda staff, product: services.gems_credit(user=staff, amount=5, reason="adjustment", idempotency_key="s"),
        lambda staff, product: services.gems_debit(user=staff, amount=5, reason="redemption", idempotency_key="s"),
        lambda staff, product: services.daily_reward_claim(user=staff),
        lambda staff, product: services.email_verified_reward(user=staff),
        lambda staff, product: services.product_scan(user=staff, sku=product.sku),
        lambda staff, product: services.redemption_create(user=staff, product=product),
        lambda staff, product: services.wishlist_add(user=staff, product=product),
        lambda staff, product: services.goal_create(user=staff, goal_name="x", target_points=5),
        lambda staff, product: services.referral_code_ensure(user=staff),
        lambda staff, product: services.rank_recompute(user=staff),
        lambda staff, product: services.achievements_evaluate(user=staff),
    ],
)
def test_services_refuse_staff_with_a_clear_message(staff, programme, call):
    with pytest.raises(ValidationError) as info:
        call(staff, programme)
    assert info.value.message_dict == {"user": [services.STAFF_REFUSAL]}
    assert loyalty_rows() == {model.__name__: 0 for model in LOYALTY_MODELS}


@pytest.mark.django_db
def test_a_staff_code_or_a_staff_referee_makes_no_referral(staff, make_member):
    member = make_member()
    code, _ = services.referral_code_ensure(user=member)
    with pytest.raises(ValidationError) as info:
        services.referral_create_pending(referee=staff, code=code.code)
    assert "user" in info.value.message_dict
    legacy = ReferralCode.objects.create(user=staff, code="old-staff-code")  # kept from before the rule
    with pytest.raises(ValidationError) as info:
        services.referral_create_pending(referee=make_member(), code=legacy.code)
    assert info.value.message_dict == {"referral_code": ["This referral code is not valid."]}


@pytest.mark.django_db
def test_the_database_refuses_a_staff_wallet(staff, make_member):
    with pytest.raises(IntegrityError, match="staff"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO rewards_wallet (user_id, balance, lifetime_earned) VALUES (%s, 0, 0)", [staff.pk])
    with pytest.raises(IntegrityError, match="staff"), transaction.atomic():
        Wallet.objects.create(user=staff)
    wallet = services.member_enrol(user=make_member())
    with pytest.raises(IntegrityError, match="staff"), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(user=staff)
    assert not Wallet.objects.filter(user=staff).exists()


@pytest.mark.django_db
def test_a_member_who_became_staff_keeps_the_ledger_but_earns_nothing_more(make_member, staff_with_perms):
    member = make_member()
    credit = services.gems_credit(user=member, amount=40, reason="adjustment", idempotency_key="before")
    User.objects.filter(pk=member.pk).update(is_staff=True)
    member.refresh_from_db()
    with pytest.raises(ValidationError):
        services.gems_credit(user=member, amount=5, reason="adjustment", idempotency_key="after")
    # A correction of what they earned as a member is still possible.
    reversal, created = services.ledger_reverse(
        entry=credit, actor=staff_with_perms("rewards.reverse_ledgerentry"), reason="Mistake"
    )
    assert created and Wallet.objects.get(user=member).balance == 100
    assert services.rewards_audit(store=False).differences == 0
