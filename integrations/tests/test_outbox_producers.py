"""Domain signals -> outbox rows, in the sender's transaction, under the consent rule."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction

from accounts import services as accounts_services
from accounts import signals as accounts_signals
from accounts.models import User
from accounts.tests.factories import BrandFactory, CustomerFactory, StaffFactory
from engagement import signals as engagement_signals
from integrations.models import OutboxMessage
from integrations.services import EVENTS
from profiles import signals as profiles_signals
from rewards import signals as rewards_signals
from rewards.models import Product


def rows(user=None):
    qs = OutboxMessage.objects.order_by("id")
    if user is not None:
        qs = qs.filter(user=user)
    return list(qs.values_list("destination", "action", "event_name", "is_marketing"))


@pytest.fixture
def opted_in(db):
    return CustomerFactory(marketing_opt_in=True, is_email_verified=True)


@pytest.fixture
def opted_out(db):
    return CustomerFactory(marketing_opt_in=False, is_email_verified=True)


class TestPeople:
    def test_identified_person_is_identified_and_synced_to_kit_when_eligible(self, opted_in, opted_out):
        accounts_signals.person_identified.send(sender=User, user=opted_in, created=True)
        accounts_signals.person_identified.send(sender=User, user=opted_out, created=True)
        # A new member's welcome credit is announced too (a marketing event: consent applies).
        assert rows(opted_in) == [
            ("customerio", "event", "gems_earned", True),
            ("customerio", "identify", "identify", False),
            ("kit", "subscriber_upsert", "subscriber_upsert", True),
        ]
        assert rows(opted_out) == [("customerio", "identify", "identify", False)]

    def test_profile_update_identifies_in_the_same_transaction(self, opted_out):
        accounts_services.person_update_profile(user=opted_out, data={"profession": "Nurse"})
        assert rows(opted_out) == [("customerio", "identify", "identify", False)]

    def test_a_rolled_back_change_leaves_no_outbox_row(self, opted_out):
        with pytest.raises(RuntimeError), transaction.atomic():
            accounts_services.person_update_profile(user=opted_out, data={"profession": "Nurse"})
            raise RuntimeError("the request failed after the change")
        assert rows() == []

    def test_opting_in_syncs_kit_and_withdrawing_unsubscribes(self, opted_out):
        accounts_services.person_update_profile(user=opted_out, data={"marketing_opt_in": True})
        assert ("kit", "subscriber_upsert", "subscriber_upsert", True) in rows(opted_out)
        User.objects.filter(pk=opted_out.pk).update(kit_subscriber_id="555")
        opted_out.refresh_from_db()
        OutboxMessage.objects.all().delete()
        accounts_services.person_withdraw_marketing_consent(user=opted_out, source="unsubscribe_link")
        assert rows(opted_out) == [
            ("customerio", "identify", "identify", False),
            ("kit", "subscriber_delete", "subscriber_delete", False),
        ]

    def test_consent_withdrawn_by_kit_is_not_sent_back_to_kit(self, opted_in):
        User.objects.filter(pk=opted_in.pk).update(kit_subscriber_id="555")
        opted_in.refresh_from_db()
        accounts_services.person_withdraw_marketing_consent(user=opted_in, source="kit")
        assert ("kit", "subscriber_delete", "subscriber_delete", False) not in rows(opted_in)

    def test_email_verified(self, opted_in):
        accounts_signals.email_verified.send(sender=User, user=opted_in, request=None)
        ours = [r for r in rows(opted_in) if r[2] != "gems_earned"]  # rewards credits gems on verification
        assert ours == [
            ("customerio", "identify", "identify", False),
            ("customerio", "event", "email_verified", False),
            ("kit", "subscriber_upsert", "subscriber_upsert", True),
        ]


class TestDomainEvents:
    def test_big_five_completed_is_transactional_and_skips_anonymous_visitors(self, opted_out):
        result = SimpleNamespace(pk=7, report_id=2)
        engagement_signals.quiz_completed.send(sender=None, result=result, user=opted_out, anonymous_id="")
        engagement_signals.quiz_completed.send(sender=None, result=result, user=None, anonymous_id="v1")
        assert rows() == [("customerio", "event", "big_five_completed", False)]
        assert OutboxMessage.objects.get().event_data == {"result_id": "7", "report_id": 2}

    def test_marketing_events_reach_only_opted_in_people(self, opted_in, opted_out):
        brand = BrandFactory()
        product = Product.objects.create(
            brand=brand, sku="BK-1", name="Deep Work", msrp=Decimal("20.00"), points_award=10, product_form="Book"
        )
        for person in (opted_in, opted_out):
            entry = SimpleNamespace(pk=1, amount=10, reason="product_scan", brand=brand)
            rewards_signals.gems_credited.send(sender=None, entry=entry, user=person)
            rewards_signals.rank_changed.send(
                sender=None, user=person, brand=brand, old_rank=None, new_rank=SimpleNamespace(key="gold")
            )
            config = SimpleNamespace(achievement_key="first-scan", name="First scan", brand=brand)
            rewards_signals.achievement_unlocked.send(
                sender=None, user=person, achievement=SimpleNamespace(points_rewarded=5), config=config
            )
            referral = SimpleNamespace(pk=3, brand=brand)
            rewards_signals.referral_converted.send(
                sender=None, referral=referral, referrer=person, referee=CustomerFactory(), context=None
            )
            rewards_signals.product_scanned.send(
                sender=None, user=person, product=product, points_awarded=10, event=None
            )
        marketing = ["gems_earned", "rank_changed", "achievement_unlocked", "referral_converted", "product_scanned"]
        sent = [name for _, action, name, _ in rows(opted_in) if action == "event"]
        assert sent == marketing
        assert all(m for _, action, _, m in rows(opted_in) if action == "event")
        assert [r for r in rows(opted_out) if r[1] == "event"] == []
        # the brand's workspace is told who the person is before their first event
        assert rows(opted_in)[0] == ("customerio", "identify", "identify", False)
        scan = OutboxMessage.objects.get(user=opted_in, event_name="product_scanned")
        assert scan.event_data["product_form"] == "Book" and scan.brand == brand

    def test_budget_alert_goes_to_the_staff_member(self, db):
        staff = StaffFactory()
        budget = SimpleNamespace(
            pk="b-1", name="Q3", account_id="acme", amount=Decimal("100"), amount_spent=Decimal("80"), created_by=None
        )
        profiles_signals.budget_alert_fired.send(sender=None, budget=budget, threshold=Decimal("80.00"), actor=staff)
        profiles_signals.budget_alert_fired.send(sender=None, budget=budget, threshold=90, actor=None)
        assert rows() == [("customerio", "event", "budget_alert", False)]
        message = OutboxMessage.objects.get()
        assert message.user == staff
        assert message.event_data["threshold"] == "80.00"

    def test_every_event_is_classified(self):
        assert {name for name, marketing in EVENTS.items() if not marketing} == {
            "email_verified",
            "big_five_completed",
            "budget_alert",
            "gems_expiring",
        }
