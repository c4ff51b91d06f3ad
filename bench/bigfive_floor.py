"""The floor of a Big Five submission, for ``bench_bigfive``: FocusedRoom's settings and URLs plus one
view, ``POST /bench-floor/big-five/``, served by the benchmark's own gunicorn server only.

The view does strictly less than ``POST /api/v1/assessments/big-five/``: it parses the body, validates
and scores the 120 answers with the product's own functions, writes the result as one ``INSERT`` (no
person, no insights, no job, no throttle, no serializer) and answers with the scores. Whatever the
submission has to do beyond that (the person, the job, every effect in the workers) can only make it
slower, so its rate against ``GET /healthz`` of the same server bounds what any submission can reach.
That server runs with ``bigfive_floor_settings`` (the product's settings, this URL configuration).
"""

from __future__ import annotations

import json
import secrets

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from engagement.bigfive import scoring
from engagement.bigfive.inventory import INVENTORY_VERSION
from focusedroom.urls import urlpatterns as product_urlpatterns

_INSERT = (
    "INSERT INTO engagement_quizresult (public_id, quiz_type, quiz_version, scores, result_type, "
    "questions_and_answers, suggestions, earned_gems, sex, norm_group, first_name, user_agent, referrer, "
    "utm_source, utm_medium, utm_campaign, country_code, device_type, is_email_verified, quiz_metadata, "
    "result_details, age) VALUES (%s, 'big_five', %s, %s, %s, %s, '', 0, %s, %s, '', '', '', '', '', '', '', "
    "'', false, '{}', '{}', %s) RETURNING id"
)


@csrf_exempt
def floor(request):
    body = json.loads(request.body)
    answers = scoring.clean_answers(body["answers"])
    scores = scoring.score(answers=answers, sex=body.get("sex") or None, age=body.get("age"))
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                secrets.token_urlsafe(16),
                INVENTORY_VERSION,
                json.dumps(scores),
                scoring.result_type(scores),
                json.dumps(answers),
                body.get("sex", ""),
                scores["norm_group"]["id"],
                body.get("age"),
            ],
        )
        result_id = cursor.fetchone()[0]
    return JsonResponse({"id": result_id, "scores": scores}, status=201)


urlpatterns = [path("bench-floor/big-five/", floor), *product_urlpatterns]
