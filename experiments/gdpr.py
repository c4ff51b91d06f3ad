"""The experiments part of GDPR export and erasure.

Export: the person's participations, impressions (with what the browser told), conversions.
Erasure keeps every row that counts in results — participations, impressions and
conversions still belong to their variant, so experiment results and their sample sizes do
not move — but removes what describes the person: page URLs (which may carry an email),
user agents, places, screen and language, UTM values, session ids, metadata and contexts,
and the anonymous ids that were merged into them. What a participation recorded at its first
exposure for the analysis — the device type, the acquisition channel and the Big Five domain
percentiles measured before it — stays, like the Big Five results themselves: they are covariates
and segments of results that must not move, held against a pseudonymised person.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from experiments.models import Conversion, ConversionAttribution, Impression, Participation

IMPRESSION_PERSONAL = {
    "page_url": None,
    "user_agent": None,
    "country_code": None,
    "region": None,
    "city": None,
    "screen_resolution": None,
    "viewport_size": None,
    "connection_type": None,
    "language_code": None,
    "time_zone": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_campaign": None,
    "session_identifier": None,
    "metadata": {},
    "user_eligibility_status": {},
    "user_context": {},
    "anonymous_id": "",
}
CONVERSION_PERSONAL = {
    "session_identifier": None,
    "details": None,
    "country_code": None,
    "referrer_source": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_campaign": None,
    "metadata": {},
    "conversion_context": {},
    "anonymous_id": "",
}


def _rows(queryset, fields) -> list[dict[str, Any]]:
    return json.loads(json.dumps(list(queryset.values(*fields)), cls=DjangoJSONEncoder))


def export(*, user) -> dict[str, Any]:
    return {
        "participations": _rows(
            Participation.objects.filter(user=user).order_by("first_exposure_date"),
            [
                "experiment__key",
                "variant__name",
                "first_exposure_date",
                "eligibility_criteria",
                "device_type",
                "acquisition_channel",
                "pre_exposure_traits",
            ],
        ),
        "impressions": _rows(
            Impression.objects.filter(user=user).order_by("impression_at"),
            ["experiment__key", "variant__name", "impression_at", *IMPRESSION_PERSONAL],
        ),
        "conversions": _rows(
            Conversion.objects.filter(user=user).order_by("created_at"),
            ["experiment__key", "variant__name", "conversion_type", "created_at", *CONVERSION_PERSONAL],
        ),
    }


@transaction.atomic
def erase(*, user) -> None:
    Impression.objects.filter(user=user).update(**IMPRESSION_PERSONAL)
    Conversion.objects.filter(user=user).update(**CONVERSION_PERSONAL)
    Participation.objects.filter(user=user).update(eligibility_criteria={}, identity_merges=[])
    ConversionAttribution.objects.filter(user=user).update(anonymous_id="")
