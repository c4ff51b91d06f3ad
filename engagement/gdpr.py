"""The engagement part of GDPR export and erasure: quiz results and the event log.

Export: the person's quiz results (scores, answers, the demographics and the browser details
stored with them, the insights text), the tests waiting for them (submitted with their
address, not yet added to their history) and their events.

Erasure keeps what aggregates count — a result's quiz type, date, scores, answers, norm group
and report number; an event's type, time and points — and removes what identifies or
describes the person: first name, IP, user agent, referrer, UTM values, country, age, session
and visitor ids, the demographics in ``quiz_metadata``, the insights text (it may name them)
and the experiment data. Every result gets a new public id, so its old report URL answers 404.
A test waiting for the person is treated like their own result and its link is deleted.

Compare links the person made or joined are exported (their side: their report, dates, status)
and deleted by erasure: the other person no longer sees the erased person's profile either.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q

from engagement import event_log
from engagement.models import CompareLink, PendingResult, QuizResult, new_public_id

RESULT_FIELDS = [
    "public_id",
    "quiz_type",
    "quiz_version",
    "report_id",
    "created_at",
    "result_type",
    "scores",
    "questions_and_answers",
    "result_details",
    "suggestions",
    "quiz_metadata",
    "earned_gems",
    "sex",
    "age",
    "norm_group",
    "first_name",
    "ip_address",
    "user_agent",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "country_code",
    "device_type",
    "session_identifier",
    "experiment_data",
]
KEPT_METADATA = ("inventory", "source", "channel_id", "duration_seconds")  # nothing that identifies


def _person_results(user):
    return QuizResult.objects.filter(Q(customer=user) | Q(pending__user=user))


def _json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def export(*, user) -> dict[str, Any]:
    results = QuizResult.objects.filter(customer=user).order_by("quiz_type", "report_id")
    waiting = QuizResult.objects.filter(pending__user=user).order_by("created_at")
    return {
        "quiz_results": _json(list(results.values(*RESULT_FIELDS))),
        "quiz_results_waiting": _json(
            list(
                waiting.values(
                    *RESULT_FIELDS,
                    "pending__created_at",
                    "pending__expires_at",
                    "pending__attached_at",
                    "pending__profile",
                )
            )
        ),
        "events": _json(event_log.events_export(user=user)),
        "compare_links": _json(_compare_links_export(user)),
    }


def _compare_links_export(user) -> list[dict[str, Any]]:
    rows = []
    links = CompareLink.objects.filter(Q(owner=user) | Q(guest=user)).select_related("owner_result", "guest_result")
    for link in links.order_by("created_at", "id"):
        own = link.owner_id == user.pk
        mine = link.owner_result if own else link.guest_result
        rows.append(
            {
                "id": link.public_id,
                "role": "owner" if own else "guest",
                "report_id": mine.report_id if mine is not None else None,
                "created_at": link.created_at,
                "joined_at": link.joined_at,
                "revoked_at": link.revoked_at,
            }
        )
    return rows


@transaction.atomic
def erase(*, user) -> None:
    results = list(_person_results(user).select_for_update(of=("self",)).order_by("pk"))
    for result in results:
        metadata = result.quiz_metadata or {}
        result.public_id = new_public_id()  # the old report URL answers 404
        result.quiz_metadata = {k: metadata[k] for k in KEPT_METADATA if k in metadata}
        result.first_name = ""
        result.ip_address = None
        result.user_agent = ""
        result.referrer = ""
        result.utm_source = result.utm_medium = result.utm_campaign = ""
        result.country_code = ""
        result.age = None
        result.session_identifier = None
        result.suggestions = ""
        result.result_details = None
        result.experiment_data = None
    QuizResult.objects.bulk_update(
        results,
        [
            "public_id",
            "quiz_metadata",
            "first_name",
            "ip_address",
            "user_agent",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "country_code",
            "age",
            "session_identifier",
            "suggestions",
            "result_details",
            "experiment_data",
        ],
        batch_size=500,
    )
    PendingResult.objects.filter(user=user).delete()
    CompareLink.objects.filter(Q(owner=user) | Q(guest=user)).delete()
    event_log.events_erase(user=user)
