"""The experiments part of GDPR export and erasure.

Export: the person's participations, impressions (with what the browser told), conversions.
Erasure keeps every row that counts in results — participations, impressions and
conversions still belong to their variant, so experiment results and their sample sizes do
not move — but removes what describes the person: page URLs (which may carry an email),
user agents, places, screen and language, UTM values, session ids, metadata and contexts,
and the anonymous ids that were merged into them. The same happens to what the person's
browsers recorded before they identified (the visitor ids of their tests and events): those
rows keep counting under a fresh pseudonym. This part runs before engagement's, which forgets
those visitor ids. What a participation recorded at its first exposure for the analysis — the
device type, the acquisition channel and the Big Five domain percentiles measured before it —
stays, like the Big Five scores themselves: they are covariates and segments of results that
must not move, held against a pseudonymised person.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from engagement import selectors as engagement_selectors
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
    visitor_ids = engagement_selectors.visitor_ids_of_person(user=user)
    before = {"user__isnull": True, "anonymous_id__in": visitor_ids}
    return {
        "before_identifying": {
            "visitor_ids": sorted(visitor_ids),
            "impressions": _rows(
                Impression.objects.filter(**before).order_by("impression_at"),
                ["experiment__key", "variant__name", "impression_at", *IMPRESSION_PERSONAL],
            ),
            "conversions": _rows(
                Conversion.objects.filter(**before).order_by("created_at"),
                ["experiment__key", "variant__name", "conversion_type", "created_at", *CONVERSION_PERSONAL],
            ),
        },
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
    # What the person's browsers recorded before they identified (never stitched to them): the rows
    # keep counting, under a fresh pseudonym per visitor id, without what describes the visit.
    for visitor_id in sorted(engagement_selectors.visitor_ids_of_person(user=user)):
        pseudonym = f"erased-{secrets.token_hex(12)}"
        anonymous = {"user__isnull": True, "anonymous_id": visitor_id}
        Impression.objects.filter(**anonymous).update(**{**IMPRESSION_PERSONAL, "anonymous_id": pseudonym})
        Conversion.objects.filter(**anonymous).update(**{**CONVERSION_PERSONAL, "anonymous_id": pseudonym})
        Participation.objects.filter(**anonymous).update(
            anonymous_id=pseudonym, eligibility_criteria={}, identity_merges=[]
        )
        ConversionAttribution.objects.filter(**anonymous).update(anonymous_id=pseudonym)
