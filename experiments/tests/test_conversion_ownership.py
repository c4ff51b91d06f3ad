"""Conversions cannot be forged: an anonymous visitor converts only for the id it holds (its fr_aid
cookie or the visitor token of its first exposure); built-in conversions come only from the services
that know them."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import CustomerFactory
from experiments import services
from experiments.models import Conversion, Impression
from focusedroom.context import VISITOR_COOKIE, visitor_token

EXPOSE = "/api/v1/experiments/headline-test/exposures/"
CONVERT = "/api/v1/conversions/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(make_experiment):
    """A real visitor: their browser got the fr_aid cookie with their first exposure."""
    make_experiment()
    client = APIClient()
    assert client.post(EXPOSE, {}, format="json").status_code == 200
    return client, client.cookies[VISITOR_COOKIE].value


def test_a_stranger_cannot_convert_for_someone_elses_visitor_id(browser):
    _, victim_id = browser
    attacker = APIClient()
    response = attacker.post(
        CONVERT, {"participant": {"anonymous_id": victim_id}, "conversion_type": "signup"}, format="json"
    )
    assert response.status_code == 403
    # Nor can they obtain a token for it through an exposure.
    exposure = attacker.post(EXPOSE, {"participant": {"anonymous_id": victim_id}}, format="json")
    assert exposure.status_code == 403 and "visitor_token" not in exposure.json()
    assert not Conversion.objects.exists()
    assert Impression.objects.count() == 1


def test_forged_or_mismatched_tokens_are_refused(browser):
    _, victim_id = browser
    client = APIClient()
    for participant in (
        {"visitor_token": "forged:token"},
        {"anonymous_id": victim_id, "visitor_token": visitor_token("someone-else-123")},
    ):
        response = client.post(CONVERT, {"participant": participant, "conversion_type": "signup"}, format="json")
        assert response.status_code == 403
    assert not Conversion.objects.exists()


def test_the_browser_that_holds_the_cookie_converts(browser):
    client, visitor_id = browser
    for participant in ({}, {"anonymous_id": visitor_id}):
        response = client.post(CONVERT, {"participant": participant, "conversion_type": "signup"}, format="json")
        assert response.status_code == 201
    assert list(Conversion.objects.values_list("anonymous_id", flat=True)) == [visitor_id, visitor_id]


def test_an_sdk_converts_with_the_token_of_its_first_exposure(make_experiment):
    make_experiment()
    sdk = APIClient()
    first = sdk.post(EXPOSE, {"participant": {"anonymous_id": "sdk-device-0001"}}, format="json").json()
    token = first["visitor_token"]
    again = sdk.post(EXPOSE, {"participant": {"anonymous_id": "sdk-device-0001"}}, format="json")
    assert again.status_code == 403  # an id in use needs its proof
    again = sdk.post(EXPOSE, {"participant": {"visitor_token": token}}, format="json")
    assert again.status_code == 200
    response = sdk.post(
        CONVERT, {"participant": {"visitor_token": token}, "conversion_type": "purchase"}, format="json"
    )
    assert response.status_code == 201 and response.json()["conversions"]
    assert Conversion.objects.get().anonymous_id == "sdk-device-0001"


@pytest.mark.parametrize("conversion_type", sorted(services.BUILT_IN_CONVERSIONS))
def test_built_in_conversions_are_never_accepted_from_clients(browser, conversion_type, member_client, staff_client):
    client, _ = browser
    body = {"conversion_type": conversion_type}
    assert client.post(CONVERT, body, format="json").status_code == 403
    assert member_client.post(CONVERT, body, format="json").status_code == 403
    staff = staff_client("experiments.add_conversion")
    person = CustomerFactory()
    response = staff.post(CONVERT, {**body, "participant": {"user_id": person.pk}}, format="json")
    assert response.status_code == 403
    assert not Conversion.objects.exists()


def test_built_in_conversions_still_come_from_the_services(browser):
    _, visitor_id = browser
    outcomes = services.conversion_record(
        conversion_type="big_five_completed", anonymous_id=visitor_id, source="built_in"
    )
    assert len(outcomes) == 1 and Conversion.objects.get().conversion_type == "big_five_completed"


def test_staff_with_the_tracking_permission_still_record_server_side(make_experiment, staff_client):
    make_experiment()
    person = CustomerFactory()
    services.exposure_record(key="headline-test", user=person)
    staff = staff_client("experiments.add_conversion")
    response = staff.post(
        CONVERT, {"participant": {"user_id": person.pk}, "conversion_type": "purchase"}, format="json"
    )
    assert response.status_code == 201
