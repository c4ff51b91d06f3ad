"""Audiences: a target customer profile's size and composition at a million customers.

One million customers and about 1.1 million Big Five results are generated once with
``INSERT … SELECT generate_series`` (idempotent: only missing rows are added; percentiles,
ages, channels, career stages, countries and consent spread by hashing the row number), then
the ``big_five_latest`` materialised view is refreshed and the tables analysed. Measured, in the
same run (median of several calls):

* **baseline**: ``SELECT count(*) FROM accounts_user`` — the simplest question one can ask of the
  customer table;
* the audience size and full composition (channel, career stage, age band, five trait histograms:
  ``integrations.selectors.audience_composition``, one ``GROUPING SETS`` query over the
  ``big_five_latest`` view plus the channel names) of a typical profile (age 25–45, US/GB, Openness ≥ 70, Conscientiousness ≤ 40), and of
  the broadest one (no criteria at all: every consented customer).

The note gives the absolute times: the target is under one second.
"""

from __future__ import annotations

import os

from common import Result, per_call

CUSTOMERS = int(os.environ.get("BENCH_AUDIENCE_CUSTOMERS", "1000000"))
EMAIL_DOMAIN = "audience.bench.invalid"
ACCOUNT = "bench-audiences"

GENERATE_PEOPLE = """
INSERT INTO accounts_user (password, is_superuser, email, name, first_name, last_name, phone_number, age, profession,
                           career_stage, purpose, country_code, time_zone, marketing_opt_in, is_guest,
                           is_email_verified, kit_subscriber_id, kit_state, is_staff, is_active, channel_id,
                           created_at)
SELECT '!', false, 'p' || i || '@' || %(domain)s, '', '', '', '',
       CASE WHEN i %% 17 = 0 THEN NULL ELSE 13 + (hashtext(i || 'age') & 2147483647) %% 60 END,
       '',
       (ARRAY['', 'student', 'early_career', 'mid_career', 'senior', 'executive', 'career_change',
              'entrepreneur', 'retired', 'other'])[1 + (hashtext(i || 'stage') & 2147483647) %% 10],
       '',
       (ARRAY['US', 'GB', 'DE', 'FR', 'CA'])[1 + (hashtext(i || 'country') & 2147483647) %% 5],
       'UTC', i %% 3 <> 0, false, i %% 2 = 0, '', 'unconfirmed', false, true, 1 + i %% 3,
       now() - i * interval '31 seconds'  -- sign-ups spread over the past year, as real ones are
  FROM generate_series(%(start)s, %(stop)s) AS i
"""

# One result per customer, and a second (the latest) for one in ten.
GENERATE_RESULTS = """
INSERT INTO engagement_quizresult (public_id, quiz_type, quiz_version, report_id, scores, result_type,
                                   questions_and_answers, suggestions, earned_gems, sex, norm_group, first_name,
                                   user_agent, referrer, utm_source, utm_medium, utm_campaign, country_code,
                                   device_type, is_email_verified, customer_id)
SELECT 'aub' || u.id || 'r' || r.n, 'big_five', '1.0', r.n,
       jsonb_build_object('percentiles', jsonb_build_object(
           'O', 1 + (hashtext(u.id || 'O' || r.n) & 2147483647) %% 99,
           'C', 1 + (hashtext(u.id || 'C' || r.n) & 2147483647) %% 99,
           'E', 1 + (hashtext(u.id || 'E' || r.n) & 2147483647) %% 99,
           'A', 1 + (hashtext(u.id || 'A' || r.n) & 2147483647) %% 99,
           'N', 1 + (hashtext(u.id || 'N' || r.n) & 2147483647) %% 99)),
       'big_five', '{}'::jsonb, '', 0, CASE WHEN u.id %% 2 = 0 THEN 'F' ELSE 'M' END, '', '', '', '', '', '', '',
       '', '', false, u.id
  FROM accounts_user u
  CROSS JOIN LATERAL (SELECT 1 AS n UNION ALL SELECT 2 WHERE u.id %% 10 = 0) r
 WHERE u.email LIKE %(pattern)s
   AND NOT EXISTS (SELECT 1 FROM engagement_quizresult q WHERE q.customer_id = u.id)
"""


def _ensure_rows() -> int:
    from django.db import connection

    pattern = f"%@{EMAIL_DOMAIN}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user WHERE email LIKE %s", [pattern])
        have = cursor.fetchone()[0]
        if have < CUSTOMERS:
            cursor.execute(GENERATE_PEOPLE, {"domain": EMAIL_DOMAIN, "start": have + 1, "stop": CUSTOMERS})
            cursor.execute(GENERATE_RESULTS, {"pattern": pattern})
            cursor.execute("VACUUM ANALYZE accounts_user")
            cursor.execute("VACUUM ANALYZE engagement_quizresult")
    from engagement import services as engagement_services

    engagement_services.big_five_latest_refresh(concurrently=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE big_five_latest")
        cursor.execute("SELECT count(*) FROM accounts_user WHERE NOT is_staff AND deleted_at IS NULL")
        return cursor.fetchone()[0]


def _profile(name: str, data: dict):
    from profiles import services
    from profiles.models import TargetCustomerProfile

    found = TargetCustomerProfile.objects.filter(account_id=ACCOUNT, name=name).first()
    return found or services.customer_profile_create(account_id=ACCOUNT, data={"name": name, **data}, actor=None)


def run() -> list[Result]:
    from django.db import connection

    from integrations import selectors

    customers = _ensure_rows()

    def count_all() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM accounts_user")
            cursor.fetchone()

    typical = _profile(
        "Curious planners-free spirits",
        {
            "demographics": {"ageRange": {"min": 25, "max": 45}, "location": {"countries": ["US", "GB"]}},
            "openness_min": 70,
            "conscientiousness_max": 40,
        },
    )
    broad = _profile("Everyone who said yes", {})
    baseline = per_call(count_all, repeat=7, warmup=1)
    results = []
    for label, profile in (("typical profile (age, country, 2 traits)", typical), ("broadest profile", broad)):
        size = selectors.audience_composition(profile=profile)["size"]
        seconds = per_call(lambda p=profile: selectors.audience_composition(profile=p), repeat=5, warmup=1)
        results.append(
            Result(
                f"audience size + composition, {label}, {customers:,} customers",
                seconds * 1000,
                "ms",
                "SELECT count(*) FROM accounts_user",
                baseline * 1000,
                note=f"{size:,} people in the audience; {seconds * 1000:,.0f} ms "
                f"({'under' if seconds < 1 else 'OVER'} the 1 s target)",
                higher_is_better=False,
            )
        )
    return results
