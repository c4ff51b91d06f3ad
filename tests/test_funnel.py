"""The acquisition funnel across apps: the landing-page experiment, the test, identity and conversion."""

from decimal import Decimal

import pytest

from engagement.models import QuizResult
from engagement.tests.helpers import form_post_data
from experiments import services as experiments
from experiments.models import Conversion, Participation
from focusedroom.context import VISITOR_COOKIE


@pytest.fixture
def headline_experiment(db):
    experiment = experiments.experiment_create(
        data={"name": "Big Five landing headline", "key": "bigfive-headline"},
        variants=[
            {"name": "control", "weight": Decimal("0.5"), "config_json": {"headline": "Control headline"}},
            {"name": "outcome", "weight": Decimal("0.5"), "config_json": {"headline": "Outcome headline"}},
        ],
    )
    return experiments.experiment_start(experiment=experiment)


@pytest.mark.django_db
def test_landing_headline_is_varied_and_the_completed_test_converts_the_identified_visitor(
    client, headline_experiment, django_capture_on_commit_callbacks
):
    page = client.get("/big-five/")
    assert page.status_code == 200
    visitor = client.cookies[VISITOR_COOKIE].value
    participation = Participation.objects.get(experiment=headline_experiment, anonymous_id=visitor)
    headline = participation.variant.config_json["headline"]
    assert f">{headline}</h1>" in page.content.decode()

    # Sticky: the same visitor sees the same headline again.
    assert f">{headline}</h1>" in client.get("/big-five/").content.decode()
    participation.refresh_from_db()
    assert participation.total_impressions == 2

    with django_capture_on_commit_callbacks(execute=True):  # what follows the test runs in a worker
        response = client.post("/big-five/", form_post_data(email="Funnel.Person@Example.com", name="Funnel", age=31))
    assert response.status_code == 302
    result = QuizResult.objects.get()
    assert result.customer.email == "funnel.person@example.com"

    # The anonymous participation moved to the person, and the test counted as a conversion.
    participation.refresh_from_db()
    assert participation.user_id == result.customer_id and participation.anonymous_id == ""
    conversion = Conversion.objects.get(experiment=headline_experiment, conversion_type="big_five_completed")
    assert conversion.user_id == result.customer_id and conversion.variant_id == participation.variant_id
    assert participation.has_converted


@pytest.mark.django_db
def test_forced_variant_is_shown_but_never_recorded(client, headline_experiment):
    page = client.get("/big-five/?fr_force=bigfive-headline:outcome")
    assert ">Outcome headline</h1>" in page.content.decode()
    assert not Participation.objects.exists()
