"""Built-in conversions and identity stitching through the cross-app signals."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory

from accounts import services as accounts_services
from accounts import signals as accounts_signals
from accounts.models import User
from accounts.tests.factories import CustomerFactory
from engagement import signals as engagement_signals
from experiments import services
from experiments.models import Conversion, Participation
from focusedroom import signals as focusedroom_signals
from focusedroom.context import VISITOR_COOKIE, RequestContext

VISITOR = "visitor-signal-01"


@pytest.fixture
def running(make_experiment):
    return make_experiment(key="bigfive-headline")


def test_person_identified_stitches_the_visitor(running):
    services.exposure_record(key=running.key, anonymous_id=VISITOR)
    user, _ = accounts_services.person_identify(email="new@example.com", anonymous_id=VISITOR)
    assert Participation.objects.get().user_id == user.pk


def test_quiz_completed_is_a_big_five_conversion(running):
    services.exposure_record(key=running.key, anonymous_id=VISITOR)
    engagement_signals.quiz_completed.send(
        sender=None, result=SimpleNamespace(), user=None, anonymous_id=VISITOR, context=None
    )
    c = Conversion.objects.get()
    assert (c.conversion_type, c.anonymous_id, c.conversion_attribution_source) == (
        "big_five_completed",
        VISITOR,
        "built_in",
    )


def test_quiz_completed_with_person_stitches_then_converts(running):
    services.exposure_record(key=running.key, anonymous_id=VISITOR)
    user = CustomerFactory()
    engagement_signals.quiz_completed.send(sender=None, result=None, user=user, anonymous_id=VISITOR, request=None)
    c = Conversion.objects.get()
    assert c.user_id == user.pk and c.participation.user_id == user.pk


def test_email_verified_and_login_use_the_visitor_cookie(running):
    services.exposure_record(key=running.key, anonymous_id=VISITOR)
    user = CustomerFactory()
    request = RequestFactory().get("/", HTTP_COOKIE=f"{VISITOR_COOKIE}={VISITOR}")
    user_logged_in.send(sender=User, request=request, user=user)
    assert Participation.objects.get().user_id == user.pk
    accounts_signals.email_verified.send(sender=User, user=user, context=RequestContext.from_request(request))
    assert Conversion.objects.get().conversion_type == "email_verified"


def test_referral_converted_credits_the_referee(running):
    referee = CustomerFactory()
    services.exposure_record(key=running.key, user=referee)
    focusedroom_signals.goal_reached.send(sender=None, user=referee, goal="referral_converted", context=None)
    c = Conversion.objects.get()
    assert (c.conversion_type, c.user_id) == ("referral_converted", referee.pk)
