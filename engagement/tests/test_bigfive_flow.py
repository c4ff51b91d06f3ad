"""The test's flow around the report: how long it takes (measured, and said the same everywhere), the
"check your inbox" line, the invitation to become a member, and a retest that tells the truth."""

from datetime import timedelta

import pytest
from django.core import signing
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import CustomerFactory
from engagement import selectors
from engagement.forms import STARTED_SALT, started_at, started_token
from engagement.models import QuizResult
from engagement.tests.helpers import answers, form_post_data, submit
from focusedroom.context import RequestContext

pytestmark = pytest.mark.django_db


def test_started_token_is_signed_and_gives_back_its_time():
    token = started_token()
    assert abs((timezone.now() - started_at(token)).total_seconds()) < 2
    assert started_at("") is None and started_at("forged") is None
    forged = signing.dumps(int(timezone.now().timestamp()) - 600, salt="another purpose")
    assert started_at(forged) is None
    old = signing.dumps("not a number", salt=STARTED_SALT)
    assert started_at(old) is None


def test_the_page_measures_how_long_a_test_took(client):
    page = client.get("/big-five/").content.decode()
    assert 'name="started"' in page
    ten_minutes_ago = signing.dumps(int((timezone.now() - timedelta(minutes=10)).timestamp()), salt=STARTED_SALT)
    client.post("/big-five/", form_post_data(started=ten_minutes_ago))
    seconds = QuizResult.objects.get().quiz_metadata["duration_seconds"]
    assert 599 <= seconds <= 610
    client.post("/big-five/", form_post_data(started="made-up"))
    assert QuizResult.objects.latest("id").quiz_metadata["duration_seconds"] is None


def timed(seconds: int):
    result = submit()
    metadata = {**result.quiz_metadata, "duration_seconds": seconds}
    QuizResult.objects.filter(pk=result.pk).update(quiz_metadata=metadata)


def test_median_duration_needs_enough_timed_tests_and_ignores_implausible_ones():
    for seconds in (300, 400, 500):
        timed(seconds)
    estimate = selectors.bigfive_duration(refresh=True)
    assert estimate == {
        "minutes": selectors.DURATION_ESTIMATE_MINUTES,
        "measured": False,
        "sample": 3,
        "median_seconds": 400.0,
    }
    for seconds in [540] * 10 + [600] * 10 + [5, 30, 50_000]:  # 5 s, 30 s and 14 h are not durations
        timed(seconds)
    measured = selectors.bigfive_duration(refresh=True)
    assert measured["measured"] and measured["sample"] == 23 and measured["median_seconds"] == 540.0
    assert measured["minutes"] == 9
    assert selectors.bigfive_duration() == measured  # kept for an hour


def test_lead_and_headline_variants_say_the_same_duration(client):
    selectors.bigfive_duration(refresh=True)
    html = client.get("/big-five/").content.decode()
    assert f"120 short statements, about {selectors.DURATION_ESTIMATE_MINUTES} minutes" in html
    assert "15 minutes" not in html and "10 minutes" not in html
    template = Template("{% load bigfive %}{{ text|with_minutes:minutes }}")
    headline = "Find the career that fits your personality — in about {minutes} minutes"
    assert template.render(Context({"text": headline, "minutes": 9})).endswith("in about 9 minutes")
    assert template.render(Context({"text": "No number here", "minutes": 9})) == "No number here"


def test_report_says_check_your_inbox_to_the_browser_that_gave_an_email_only(client):
    response = client.post("/big-five/", form_post_data(email="new.person@example.com"))
    url = response["Location"].split("#")[0]
    assert "Check your inbox at the address you gave" in client.get(url).content.decode()
    other = client.__class__()
    assert "Check your inbox" not in other.get(url).content.decode()  # someone else with the link
    client.post("/big-five/", form_post_data())  # no email: no such line
    url = reverse("bigfive-result", args=[QuizResult.objects.latest("id").public_id])
    assert "Check your inbox" not in client.get(url).content.decode()


def test_report_invites_visitors_to_become_members_but_not_members(client):
    result = submit(email="visitor@example.com")
    url = reverse("bigfive-result", args=[result.public_id])
    html = client.get(url).content.decode()
    assert "Keep your reports and see how you change" in html and 'href="/accounts/signup/"' in html
    assert "Earn Insight Gems" in html and "Track real change" in html
    member = CustomerFactory()
    own = submit(context=RequestContext.system(source="page", actor=member))
    client.force_login(member)
    html = client.get(reverse("bigfive-result", args=[own.public_id])).content.decode()
    assert "Keep your reports and see how you change" not in html and "Make a compare link" in html


def test_a_retest_within_measurement_error_says_so(client):
    member = CustomerFactory()
    context = RequestContext.system(source="page", actor=member)
    first = answers(3)
    submit(context=context, answers=first, sex="M", age=40)
    second = dict(first)
    second[next(iter(second))] = 4  # one statement answered one step differently
    retest = submit(context=context, answers=second, sex="M", age=40)
    client.force_login(member)
    html = " ".join(client.get(reverse("bigfive-result", args=[retest.public_id])).content.decode().split())
    assert "every difference is within measurement error" in html
    assert html.count("within measurement error</span>") == 5
    assert "changed:" not in html
