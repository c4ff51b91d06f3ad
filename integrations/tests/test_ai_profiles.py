"""manage.py compute_ai_profiles: the documented formulas, computed in one SQL statement."""

from __future__ import annotations

import json
import math
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import BrandFactory, CustomerFactory, StaffFactory
from engagement.models import Event
from integrations.ai_profiles import ai_profiles_compute
from integrations.models import AIProfile
from integrations.webhooks import customerio_sign
from rewards.models import Product


def q4(x: float) -> Decimal:
    return Decimal(str(round(x, 4))).quantize(Decimal("0.0001"))


def expected(idle_days: float, events_30d: int, scans_90d: int, has_events: bool = True) -> dict[str, Decimal]:
    recency = math.exp(-idle_days / 14) if has_events else 0
    engagement = 0.6 * recency + 0.4 * (1 - math.exp(-events_30d / 10))
    churn = 1 / (1 + math.exp(min(50, max(-50, -(idle_days - 30) / 7))))
    churn_q = q4(churn)
    purchase = (1 - math.exp(-scans_90d / 3)) * (1 - float(churn_q))
    return {"engagement_score": q4(engagement), "churn_probability": churn_q, "purchase_probability": q4(purchase)}


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= Decimal("0.0002")


@pytest.fixture
def world(db):
    now = timezone.now()
    brand = BrandFactory()
    book = Product.objects.create(brand=brand, sku="B", name="Book", msrp=20, points_award=5, product_form="Book")
    course = Product.objects.create(brand=brand, sku="C", name="Course", msrp=90, points_award=9, product_form="Course")
    champion = CustomerFactory(is_email_verified=True)
    dormant = CustomerFactory(is_email_verified=True)
    newbie = CustomerFactory(is_email_verified=False)
    User.all_objects.filter(pk=champion.pk).update(created_at=now - timedelta(days=100))
    User.all_objects.filter(pk=dormant.pk).update(created_at=now - timedelta(days=200))
    User.all_objects.filter(pk=newbie.pk).update(created_at=now - timedelta(days=3))
    events = [
        Event(user=champion, event_type="page_viewed", created_at=now - timedelta(days=1 + n % 5)) for n in range(16)
    ]
    events += [
        Event(user=champion, event_type="product_scanned", product_id=p.pk, created_at=now - timedelta(days=2))
        for p in (book, book, book, course)
    ]
    events.append(Event(user=dormant, event_type="page_viewed", created_at=now - timedelta(days=60)))
    Event.objects.bulk_create(events)
    StaffFactory()
    gone = CustomerFactory()
    User.all_objects.filter(pk=gone.pk).update(deleted_at=now)
    return {"now": now, "champion": champion, "dormant": dormant, "newbie": newbie}


def test_formulas_segments_and_actions(world):
    assert ai_profiles_compute(now=world["now"]) == 3  # staff and soft-deleted people have none
    champion = AIProfile.objects.get(user=world["champion"])
    want = expected(idle_days=1, events_30d=20, scans_90d=4)
    for field, value in want.items():
        assert close(getattr(champion, field), value), (field, getattr(champion, field), value)
    assert champion.product_affinity_scores == {"Book": 0.75, "Course": 0.25}
    assert champion.recommended_segment == "champion"
    assert champion.next_best_action == "invite_a_friend"

    dormant = AIProfile.objects.get(user=world["dormant"])
    for field, value in expected(idle_days=60, events_30d=0, scans_90d=0).items():
        assert close(getattr(dormant, field), value)
    assert dormant.recommended_segment == "dormant" and dormant.next_best_action == "win_back_offer"

    newbie = AIProfile.objects.get(user=world["newbie"])
    for field, value in expected(idle_days=3, events_30d=0, scans_90d=0, has_events=False).items():
        assert close(getattr(newbie, field), value)
    assert newbie.engagement_score == 0
    assert newbie.recommended_segment == "new" and newbie.next_best_action == "verify_email"


def test_recomputing_updates_in_place(world):
    ai_profiles_compute(now=world["now"])
    ai_profiles_compute(now=world["now"] + timedelta(days=40))
    assert AIProfile.objects.count() == 3
    champion = AIProfile.objects.get(user=world["champion"])
    assert champion.recommended_segment == "at_risk"  # 41 idle days


def test_one_statement_whatever_the_number_of_people(world):
    with CaptureQueriesContext(connection) as queries:
        ai_profiles_compute(now=world["now"])
    assert len([q for q in queries.captured_queries if "user_ai_profiles" in q["sql"]]) == 1


def test_customerio_predictions_win_while_newer_than_the_last_event(world, settings):
    settings.CUSTOMERIO_WEBHOOK_SIGNING_SECRET = "s"
    dormant = world["dormant"]
    body = json.dumps(
        {
            "event_id": "pred-1",
            "metric": "prediction_update",
            "timestamp": int(time.time()),
            "data": {"customer_id": str(dormant.pk), "predictions": {"churn_probability": 0.25}},
        }
    ).encode()
    ts = int(time.time())
    response = Client().post(
        "/api/v1/webhooks/customerio/",
        data=body,
        content_type="application/json",
        HTTP_X_CIO_TIMESTAMP=str(ts),
        HTTP_X_CIO_SIGNATURE=customerio_sign(secret="s", timestamp=ts, body=body),
    )
    assert response.status_code == 200
    ai_profiles_compute(now=world["now"])
    profile = AIProfile.objects.get(user=dormant)
    assert profile.churn_probability == Decimal("0.2500")  # Customer.io's value, newer than the last event
    assert profile.recommended_segment == "dormant"  # fields Customer.io did not send stay computed
    Event.objects.create(user=dormant, event_type="page_viewed", created_at=timezone.now() + timedelta(seconds=1))
    ai_profiles_compute(now=timezone.now() + timedelta(seconds=2))
    profile.refresh_from_db()
    assert profile.churn_probability < Decimal("0.05")  # active again: computed value replaces the prediction
    assert profile.ai_insights["customerio"]["churn_probability"] == 0.25  # the prediction itself is kept


def test_the_command(world, capsys):
    call_command("compute_ai_profiles")
    assert "computed 3 AI profiles" in capsys.readouterr().out


def test_probabilities_are_checked_by_the_database(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        AIProfile.objects.create(user=CustomerFactory(), churn_probability=Decimal("1.5"))
