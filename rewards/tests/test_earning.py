"""Daily login (member's time zone, streak), email verified bonus, quiz gems, brand amounts."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import signals as accounts_signals
from accounts.models import Brand, User
from engagement import signals as engagement_signals
from rewards import services
from rewards.models import EngagementReward, LedgerEntry, Wallet
from rewards.schemas import REWARD_DEFAULTS, reward_settings


@pytest.mark.django_db
def test_daily_reward_api_answers_201_then_200_with_the_same_reward(member_client, member):
    first = member_client.post("/api/v1/me/daily-reward/")
    second = member_client.post("/api/v1/me/daily-reward/")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["reward_amount"] == 5 and first.json()["streak"] == 1
    assert LedgerEntry.objects.filter(reason="daily_login", wallet__user=member).count() == 1


@pytest.mark.django_db
def test_daily_reward_day_is_the_calendar_day_in_the_members_time_zone(make_member, monkeypatch):
    member = make_member(time_zone="Pacific/Auckland")
    # 2026-03-01 11:30 UTC is already 2 March in Auckland (UTC+13).
    now = dt.datetime(2026, 3, 1, 11, 30, tzinfo=dt.UTC)
    assert services.local_date(member, now=now) == dt.date(2026, 3, 2)
    monkeypatch.setattr(timezone, "now", lambda: now)
    reward, created = services.daily_reward_claim(user=member)
    assert created and reward.day == dt.date(2026, 3, 2)
    # 12:30 UTC the same UTC day is still 2 March there: no second reward.
    monkeypatch.setattr(timezone, "now", lambda: now + dt.timedelta(hours=1))
    assert services.daily_reward_claim(user=member)[1] is False
    # 11:30 UTC the next day is 3 March there: a new day, streak 2.
    monkeypatch.setattr(timezone, "now", lambda: now + dt.timedelta(days=1))
    reward, created = services.daily_reward_claim(user=member)
    assert created and reward.day == dt.date(2026, 3, 3) and reward.streak == 2
    # A missed day resets the streak.
    monkeypatch.setattr(timezone, "now", lambda: now + dt.timedelta(days=3))
    reward, _ = services.daily_reward_claim(user=member)
    assert reward.streak == 1


@pytest.mark.django_db
def test_unknown_time_zone_falls_back_to_utc(make_member):
    member = make_member(time_zone="Mars/Olympus")
    now = dt.datetime(2026, 1, 1, 23, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert services.local_date(member, now=now) == dt.date(2026, 1, 1)


@pytest.mark.django_db
def test_database_refuses_two_daily_rewards_the_same_day(make_member):
    from django.db import IntegrityError, transaction

    member = make_member()
    reward, _ = services.daily_reward_claim(user=member)
    with pytest.raises(IntegrityError), transaction.atomic():
        EngagementReward.objects.create(user=member, reward_type="daily_login", reward_amount=1, day=reward.day)


@pytest.mark.django_db
def test_logging_in_claims_the_daily_reward(client, make_member):
    member = make_member(password="correct-horse-42")
    response = client.post("/accounts/login/", {"username": member.email, "password": "correct-horse-42"})
    assert response.status_code == 302
    assert EngagementReward.objects.filter(user=member, reward_type="daily_login").count() == 1
    client.logout()
    client.post("/accounts/login/", {"username": member.email, "password": "correct-horse-42"})
    assert EngagementReward.objects.filter(user=member, reward_type="daily_login").count() == 1


@pytest.mark.django_db
def test_email_verified_bonus_is_given_once(make_member):
    member = make_member()
    accounts_signals.email_verified.send(sender=User, user=member, request=None)
    accounts_signals.email_verified.send(sender=User, user=member, request=None)
    assert LedgerEntry.objects.filter(wallet__user=member, reason="email_verified").count() == 1
    assert Wallet.objects.get(user=member).balance == 150


@pytest.mark.django_db
def test_brand_settings_change_the_amounts_and_are_validated(default_brand, make_member):
    default_brand.settings = {"rewards": {"daily_login": 12, "welcome": 250}, "other_app": {"x": 1}}
    default_brand.save()
    assert reward_settings(default_brand)["daily_login"] == 12
    assert reward_settings(default_brand)["quiz_completed"] == REWARD_DEFAULTS["quiz_completed"]
    member = make_member()
    reward, _ = services.daily_reward_claim(user=member)
    assert reward.reward_amount == 12 and Wallet.objects.get(user=member).balance == 262
    default_brand.settings = {"rewards": {"daily_login": -1, "bogus": 3}}
    with pytest.raises(ValidationError) as info:
        default_brand.save()
    assert any("daily_login" in m for m in info.value.message_dict["settings"])
    assert any("bogus" in m for m in info.value.message_dict["settings"])


@pytest.mark.django_db
def test_brand_settings_written_through_the_staff_api_are_validated_too(staff_client, default_brand):
    """The API's serializer never calls ``Brand.clean()``: the pre_save receiver refuses it."""
    client = staff_client("accounts.view_brand", "accounts.change_brand")
    url = f"/api/v1/brands/{default_brand.slug}/"
    bad = client.patch(url, {"settings": {"rewards": {"welcome": -5}}}, format="json")
    assert bad.status_code == 400 and "settings" in bad.json()["error"]["fields"]
    default_brand.refresh_from_db()
    assert "rewards" not in default_brand.settings
    ok = client.patch(url, {"settings": {"rewards": {"welcome": 150}}}, format="json")
    assert ok.status_code == 200 and reward_settings(Brand.objects.get(pk=default_brand.pk))["welcome"] == 150


@pytest.mark.django_db
def test_quiz_completion_gives_gems_once_per_report_and_records_them(django_capture_on_commit_callbacks):
    """End to end: the Big Five API stores a result, ``quiz_completed`` reaches rewards, and the
    gems land in the ledger and on the result (``quiz_attempts.earned_gems``)."""
    from engagement.models import QuizResult

    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):  # the worker's part runs at commit in tests
        first, second, anonymous = _three_submissions(client)
    assert {first.status_code, second.status_code, anonymous.status_code} == {201}
    member = User.objects.get(email="quiz@example.com")
    results = list(QuizResult.objects.filter(customer=member).order_by("report_id"))
    assert [r.earned_gems for r in results] == [25, 25]
    assert LedgerEntry.objects.filter(reason="quiz_completed", wallet__user=member).count() == 2
    assert Wallet.objects.get(user=member).balance == 150
    # The same report completed again (a replayed signal) earns nothing more.
    engagement_signals.quiz_completed.send(sender=None, result=results[0], user=member, anonymous_id="", request=None)
    assert LedgerEntry.objects.filter(reason="quiz_completed", wallet__user=member).count() == 2
    assert QuizResult.objects.get(customer__isnull=True).earned_gems == 0


def _three_submissions(client):
    from engagement.tests.helpers import random_answers

    first = client.post(
        "/api/v1/assessments/big-five/", {"answers": random_answers(1), "email": "quiz@example.com"}, format="json"
    )
    second = client.post(
        "/api/v1/assessments/big-five/", {"answers": random_answers(2), "email": "quiz@example.com"}, format="json"
    )
    anonymous = client.post("/api/v1/assessments/big-five/", {"answers": random_answers(3)}, format="json")
    return first, second, anonymous
