"""The experiments part of GDPR export and erasure: the person's traffic leaves, the results stay."""

from decimal import Decimal

import pytest

from accounts.tests.factories import CustomerFactory
from experiments import gdpr, services
from experiments.models import Conversion, ConversionAttribution, Impression, Participation
from experiments.selectors import experiment_results
from focusedroom import registries

PAGE = "https://focusedroom.example/big-five/?email=ada%40example.com&utm_source=newsletter"
USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
TRACKING = {
    "page_url": PAGE,
    "user_agent": USER_AGENT,
    "device_type": "mobile",
    "country_code": "fr",
    "region": "Île-de-France",
    "city": "Paris",
    "language_code": "fr-FR",
    "screen_resolution": "1170x2532",
    "utm_source": "newsletter",
    "utm_medium": "email",
    "utm_campaign": "spring",
    "session_identifier": "session-ada",
    "metadata": {"referrer": "mail client"},
}


@pytest.fixture
def traffic(make_experiment):
    """A running test with a person (first seen as a visitor) and other visitors, some converting."""
    experiment = make_experiment(key="gdpr-headline")
    person = CustomerFactory(channel_id=1)
    services.exposure_record(key=experiment.key, anonymous_id="ada-browser-01", tracking=TRACKING)
    services.identity_stitch(user=person, anonymous_id="ada-browser-01")
    services.exposure_record(key=experiment.key, user=person, tracking=TRACKING)
    services.conversion_record(
        conversion_type="ebook_download",
        user=person,
        conversion_value=Decimal("9.99"),
        details={"book": "Focus", "email": "ada@example.com"},
        tracking={
            "utm_source": "newsletter",
            "referrer_source": "mail",
            "session_identifier": "session-ada",
            "conversion_context": {"page": PAGE},
            "metadata": {"cart": "c-1"},
        },
    )
    for i in range(40):
        visitor = f"gdpr-visitor-{i:03d}"
        services.exposure_record(key=experiment.key, anonymous_id=visitor, tracking={"city": "Lyon"})
        if i % 4 == 0:
            services.conversion_record(conversion_type="ebook_download", anonymous_id=visitor)
    return experiment, person


def test_the_part_is_registered():
    part = registries.gdpr_parts.get("experiments")
    assert (part.export, part.erase) == (gdpr.export, gdpr.erase)


def test_export_contains_the_persons_participations_impressions_and_conversions(traffic):
    experiment, person = traffic
    data = gdpr.export(user=person)
    [participation] = data["participations"]
    assert participation["experiment__key"] == experiment.key
    assert (participation["device_type"], participation["acquisition_channel"]) == ("mobile", None)
    assert "pre_exposure_traits" in participation
    assert len(data["impressions"]) == 2  # the visitor's exposure came along when they identified
    for impression in data["impressions"]:
        assert (impression["page_url"], impression["user_agent"], impression["city"]) == (PAGE, USER_AGENT, "Paris")
        assert (impression["utm_source"], impression["utm_campaign"], impression["country_code"]) == (
            "newsletter",
            "spring",
            "FR",
        )
        assert impression["user_context"]["is_member"] in (True, False)
        assert impression["metadata"] == {"referrer": "mail client"}
    [conversion] = data["conversions"]
    assert conversion["details"] == {"book": "Focus", "email": "ada@example.com"}
    assert conversion["conversion_context"] == {"page": PAGE}
    assert (conversion["referrer_source"], conversion["utm_source"]) == ("mail", "newsletter")
    assert "gdpr-visitor" not in str(data)  # nobody else's traffic


def test_erase_blanks_what_describes_the_person_and_leaves_the_results_unchanged(traffic):
    experiment, person = traffic
    before = experiment_results(experiment=experiment)
    counts_before = {
        "participations": Participation.objects.filter(experiment=experiment).count(),
        "impressions": Impression.objects.filter(experiment=experiment).count(),
        "conversions": Conversion.objects.filter(experiment=experiment).count(),
        "attributions": ConversionAttribution.objects.filter(experiment=experiment).count(),
    }
    assert before["participants"] == 41 and before["metrics"][0]["conversion_type"] == "ebook_download"

    gdpr.erase(user=person)

    impressions = Impression.objects.filter(user=person)
    assert impressions.count() == 2
    for impression in impressions:
        assert impression.user_agent is None and impression.page_url is None
        assert (impression.city, impression.region, impression.country_code) == (None, None, None)
        assert (impression.utm_source, impression.utm_medium, impression.utm_campaign) == (None, None, None)
        assert (impression.session_identifier, impression.language_code, impression.screen_resolution) == (
            None,
            None,
            None,
        )
        assert impression.user_context == {} and impression.user_eligibility_status == {}
        assert impression.metadata == {}
    conversion = Conversion.objects.get(user=person)
    assert conversion.details is None and conversion.conversion_context == {} and conversion.metadata == {}
    assert (conversion.referrer_source, conversion.utm_source, conversion.session_identifier) == (None, None, None)
    assert conversion.conversion_value == Decimal("9.99")  # a result, not a description of the person
    participation = Participation.objects.get(user=person)
    assert participation.eligibility_criteria == {} and participation.identity_merges == []

    # Other people's traffic is untouched, and every count and statistic is the same.
    assert Impression.objects.filter(anonymous_id="gdpr-visitor-000").get().city == "Lyon"
    assert experiment_results(experiment=experiment) == before
    assert {
        "participations": Participation.objects.filter(experiment=experiment).count(),
        "impressions": Impression.objects.filter(experiment=experiment).count(),
        "conversions": Conversion.objects.filter(experiment=experiment).count(),
        "attributions": ConversionAttribution.objects.filter(experiment=experiment).count(),
    } == counts_before
    assert gdpr.export(user=person)["conversions"][0]["details"] is None
