"""Demo data for the engagement app (idempotent): Big Five results and blog engagement.

Runs after ``accounts.demo`` (``manage.py seed_demo``), which creates the people
``demo.customerNNNNN@example.com``. Most of them took the test (everyone acquired
through the test, some of the others), about one in five came back for a second or
third report, some tests are anonymous, and the demo blog posts have likes and votes.
Results are scored with the real scoring and insights code; they are bulk-inserted, so
no ``quiz_completed`` signal fires (no gems for demo tests).
"""

from __future__ import annotations

import json
import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from engagement.bigfive import scoring
from engagement.bigfive.insights import PersonContext, default_generator
from engagement.bigfive.inventory import FACET_CODES, INVENTORY_ID, INVENTORY_VERSION, ITEMS
from engagement.blog import POSTS
from engagement.models import BlogEngagement, BlogEngagementType, QuizResult, QuizType
from engagement.services import BLOG_IDENTIFIER_SALT

DEMO_EMAIL_PREFIX = "demo.customer"


def _answers(rng: random.Random, tendency: dict[str, float]) -> dict[str, int]:
    """Plausible answers: each facet has a tendency (1–5) and answers scatter around it."""
    answers = {}
    for item in ITEMS:
        level = tendency[item.facet_code] + rng.gauss(0, 0.8)
        keyed = max(1, min(5, round(level)))
        answers[item.id] = keyed if item.keyed == "+" else 6 - keyed
    return answers


def _result(rng: random.Random, *, user, report_id, created_at, tendency, sex) -> QuizResult:
    answers = _answers(rng, tendency)
    age = user.age if user is not None else rng.choice([None, 19, 27, 35, 48, 66])
    scores = scoring.score(answers=answers, sex=sex or None, age=age)
    person = PersonContext(
        first_name=(user.first_name if user is not None else ""),
        career_stage=user.career_stage if user is not None else "",
        purpose=user.purpose if user is not None else "",
        profession=user.profession if user is not None else "",
        age=age,
    )
    insights = default_generator.build(scores=scores, person=person)
    return QuizResult(
        customer=user,
        quiz_type=QuizType.BIG_FIVE,
        quiz_version=INVENTORY_VERSION,
        report_id=report_id,
        scores=scores,
        result_type=scoring.result_type(scores),
        result_details={"insights": insights.as_dict()},
        questions_and_answers=answers,
        quiz_metadata={"inventory": {"id": INVENTORY_ID, "version": INVENTORY_VERSION}, "source": "demo", "demo": True},
        suggestions=insights.as_text(),
        sex=sex,
        age=age,
        norm_group=scores["norm_group"]["id"],
        first_name=person.first_name,
        device_type=rng.choice(["desktop", "mobile", "mobile", "tablet"]),
        utm_source=rng.choice(["", "", "google", "newsletter", "instagram"]),
        created_at=created_at,
    )


@transaction.atomic
def seed(*, scale: int) -> str:
    from accounts.selectors import people as all_people
    from focusedroom.bulk import bulk_enabled
    from focusedroom.partitions import partitions_ensure

    now = timezone.now()
    # Demo people joined over the last two years: their months of the event log must exist.
    partitions_ensure(table="engagement_event", start=now - timedelta(days=DEMO_HISTORY_DAYS), end=now)
    if bulk_enabled(scale):
        return seed_bulk(scale=scale)
    people = list(
        all_people(include_deleted=True)
        .filter(email__startswith=DEMO_EMAIL_PREFIX, is_staff=False)
        .order_by("email")[:scale]
    )
    existing = QuizResult.objects.filter(customer__in=people, quiz_type=QuizType.BIG_FIVE)
    has_results = set(existing.values_list("customer_id", flat=True))
    new: list[QuizResult] = []
    returning = 0
    for user in people:
        if user.pk in has_results:
            continue
        rng = random.Random(f"bigfive:{user.email}")  # stable per person, whatever else exists
        if user.channel_id != 1 and rng.random() > 0.4:
            continue
        tendency = {code: rng.uniform(1.8, 4.4) for code in FACET_CODES}
        sex = rng.choice(["M", "F", "F", "M", ""])
        reports = 1 + (rng.random() < 0.2) + (rng.random() < 0.08)
        returning += reports > 1
        first_at = max(user.created_at, now - timedelta(days=400))
        for report_id in range(1, reports + 1):
            created_at = first_at + timedelta(days=45 * (report_id - 1), minutes=rng.randint(0, 600))
            drift = {k: v + rng.uniform(-0.2, 0.2) for k, v in tendency.items()}
            at = min(created_at, now)
            new.append(_result(rng, user=user, report_id=report_id, created_at=at, tendency=drift, sex=sex))

    anonymous_target = max(3, scale // 5)
    anonymous_existing = QuizResult.objects.filter(customer__isnull=True, quiz_metadata__demo=True).count()
    for k in range(anonymous_existing, anonymous_target):
        rng = random.Random(f"bigfive:anonymous:{k}")
        tendency = {code: rng.uniform(1.8, 4.4) for code in FACET_CODES}
        new.append(
            _result(
                rng,
                user=None,
                report_id=None,
                created_at=now - timedelta(days=rng.randint(0, 300)),
                tendency=tendency,
                sex=rng.choice(["M", "F", ""]),
            )
        )
    QuizResult.objects.bulk_create(new, batch_size=500)

    votes = []
    for post_index, slug in enumerate(POSTS):
        rng = random.Random(f"blog:{slug}")
        for visitor in range(max(6, scale // 3)):
            identifier = salted_hmac(BLOG_IDENTIFIER_SALT, f"demo-visitor-{visitor}", algorithm="sha256").hexdigest()
            if rng.random() < 0.5:
                like = BlogEngagementType.LIKE
                votes.append(BlogEngagement(post_slug=slug, engagement_type=like, user_identifier=identifier))
            if rng.random() < 0.6:
                helpful = rng.random() < 0.75 - 0.1 * post_index
                kind = BlogEngagementType.HELPFUL_YES if helpful else BlogEngagementType.HELPFUL_NO
                text = "" if helpful or rng.random() < 0.5 else "I would like a concrete example."
                votes.append(
                    BlogEngagement(post_slug=slug, engagement_type=kind, user_identifier=identifier, feedback_text=text)
                )
    created_votes = BlogEngagement.objects.bulk_create(votes, ignore_conflicts=True)
    return (
        f"{len(new)} Big Five results created ({returning} returning customers), "
        f"{len(created_votes)} blog engagements offered (duplicates skipped)"
    )


# ------------------------------------------------------------------ bulk (large scales)

TEMPLATE_COUNT = 64  # distinct scored answer sets the bulk path draws results from


def _templates() -> dict[str, list]:
    """Really scored results (scoring and insights code) that the bulk SQL hands out by hash."""
    columns: dict[str, list] = {k: [] for k in ("scores", "result_type", "details", "answers", "suggestions")}
    columns |= {"sex": [], "age": [], "norm_group": []}
    for k in range(TEMPLATE_COUNT):
        rng = random.Random(f"bigfive:template:{k}")
        tendency = {code: rng.uniform(1.8, 4.4) for code in FACET_CODES}
        sex = rng.choice(["M", "F", "F", "M", ""])
        age = rng.choice([None, 19, 24, 27, 31, 35, 42, 48, 55, 66])
        answers = _answers(rng, tendency)
        scores = scoring.score(answers=answers, sex=sex or None, age=age)
        insights = default_generator.build(
            scores=scores, person=PersonContext(first_name="", career_stage="", purpose="", profession="", age=age)
        )
        columns["scores"].append(json.dumps(scores))
        columns["result_type"].append(scoring.result_type(scores))
        columns["details"].append(json.dumps({"insights": insights.as_dict()}))
        columns["answers"].append(json.dumps(answers))
        columns["suggestions"].append(insights.as_text())
        columns["sex"].append(sex)
        columns["age"].append(age)
        columns["norm_group"].append(scores["norm_group"]["id"])
    return columns


TEMPLATES_CTE = """
templates AS (
    SELECT (n - 1)::int AS k, scores::jsonb, result_type, details::jsonb, answers::jsonb, suggestions, sex, age,
           norm_group
    FROM unnest(%(scores)s::text[], %(result_type)s::text[], %(details)s::text[], %(answers)s::text[],
                %(suggestions)s::text[], %(sex)s::text[], %(age)s::int[], %(norm_group)s::text[])
         WITH ORDINALITY AS t(scores, result_type, details, answers, suggestions, sex, age, norm_group, n)
)
"""

RESULT_COLUMNS = """
    public_id, customer_id, quiz_type, quiz_version, report_id, scores, result_type, result_details,
    questions_and_answers, quiz_metadata, suggestions, earned_gems, sex, age, norm_group, first_name, user_agent,
    referrer, utm_source, utm_medium, utm_campaign, country_code, device_type, is_email_verified,
    verification_timestamp, created_at
"""

# Everyone acquired through the test took it, four in ten of the others; one in five came
# back for a second report and one in twelve for a third, 45 days apart.
BULK_CUSTOMER_RESULTS_SQL = f"""
WITH {TEMPLATES_CTE},
people AS (
    SELECT u.id, u.first_name, u.country_code, u.is_email_verified, u.email_verified_at,
           greatest(u.created_at, now() - interval '400 days') AS first_at,
           (hashtext('bigfive-' || u.id) & 2147483647) AS h
    FROM accounts_user u
    WHERE u.email LIKE 'demo.customer%%' AND NOT u.is_staff
      AND NOT EXISTS (SELECT 1 FROM engagement_quizresult q WHERE q.customer_id = u.id AND q.quiz_type = 'big_five')
)
INSERT INTO engagement_quizresult ({RESULT_COLUMNS})
SELECT replace(gen_random_uuid()::text, '-', ''), p.id, 'big_five', %(version)s, r, t.scores, t.result_type,
       t.details, t.answers, %(metadata)s::jsonb, t.suggestions, 0, t.sex, t.age, t.norm_group, p.first_name, '', '',
       (ARRAY['', '', 'google', 'newsletter', 'instagram'])[1 + (p.h / 7) %% 5], '', '', p.country_code,
       (ARRAY['desktop', 'mobile', 'mobile', 'tablet'])[1 + (p.h / 5) %% 4], p.is_email_verified,
       p.email_verified_at,
       least(p.first_at + make_interval(days => 45 * (r - 1), mins => (p.h / 3 + r) %% 600), now())
FROM people p
JOIN accounts_user u ON u.id = p.id
CROSS JOIN LATERAL generate_series(1, 1 + (p.h %% 100 < 20)::int + (p.h %% 100 < 8)::int) AS r
JOIN templates t ON t.k = (p.h / 11 + r * 7) %% {TEMPLATE_COUNT}
WHERE u.channel_id = 1 OR p.h %% 10 < 4
"""  # noqa: S608 (built from this module's constants only)

BULK_ANONYMOUS_RESULTS_SQL = f"""
WITH {TEMPLATES_CTE}
INSERT INTO engagement_quizresult ({RESULT_COLUMNS})
SELECT replace(gen_random_uuid()::text, '-', ''), NULL, 'big_five', %(version)s, NULL, t.scores, t.result_type,
       t.details, t.answers, %(metadata)s::jsonb, t.suggestions, 0, t.sex, t.age, t.norm_group, '', '', '',
       (ARRAY['', '', 'google', 'newsletter', 'instagram'])[1 + g %% 5], '', '', '',
       (ARRAY['desktop', 'mobile', 'mobile', 'tablet'])[1 + g %% 4], false, NULL,
       now() - make_interval(secs => (hashtext('anonymous-' || g) & 2147483647) %% (300 * 86400))
FROM generate_series(%(start)s, %(stop)s) AS g
JOIN templates t ON t.k = g %% {TEMPLATE_COUNT}
"""  # noqa: S608 (built from this module's constants only)

DEMO_HISTORY_DAYS = 731  # accounts.demo: people joined over the last 730 days

# About ten events per customer: a quiz_completed for each of their results, the rest
# page views, logins and blog reads between the day they joined and now.
EVENT_COLUMNS = """
    user_id, anonymous_id, event_type, brand_id, metadata, experiment_context, variant_context, page_url,
    product_id, points_awarded, ip_address, user_agent, device_type, session_identifier, created_at
"""
BULK_EVENTS_SQL = f"""
WITH people AS (
    SELECT u.id, u.created_at, (hashtext('events-' || u.id) & 2147483647) AS h
    FROM accounts_user u
    WHERE u.email LIKE 'demo.customer%%' AND NOT u.is_staff
      AND NOT EXISTS (SELECT 1 FROM engagement_event e WHERE e.user_id = u.id)
),
activity AS (
    SELECT p.id AS user_id, kind.event_type, kind.page_url, p.h, n,
           p.created_at + (now() - p.created_at) * (((p.h / 7 + n * 7919) %% 10007) / 10007.0) AS at
    FROM people p
    CROSS JOIN LATERAL generate_series(1, 4 + p.h %% 10) AS n
    CROSS JOIN LATERAL (
        SELECT (ARRAY['page_viewed', 'page_viewed', 'page_viewed', 'page_viewed', 'page_viewed', 'login',
                      'login', 'blog_post_read', 'quiz_started', 'page_viewed'])[1 + (p.h / 3 + n) %% 10] AS event_type,
               (ARRAY['/', '/big-five/', '/account/', '/blog/', '/rewards/', '/big-five/report/'])[
                   1 + (p.h / 5 + n * 3) %% 6] AS page_url
    ) AS kind
    UNION ALL
    SELECT q.customer_id, 'quiz_completed', '/big-five/', p.h, q.report_id, q.created_at
    FROM people p JOIN engagement_quizresult q ON q.customer_id = p.id
)
INSERT INTO engagement_event ({EVENT_COLUMNS})
SELECT user_id, '', event_type, accounts_default_brand_id(),
       CASE WHEN event_type = 'quiz_completed' THEN jsonb_build_object('quiz_type', 'big_five', 'report_id', n,
                                                                       'source', 'demo')
            ELSE '{{}}'::jsonb END,
       '', '', page_url, NULL, 0, NULL, '', (ARRAY['desktop', 'mobile', 'mobile', 'tablet'])[1 + h %% 4],
       'demo-' || user_id || '-' || (n / 3), at
FROM activity
ORDER BY at
"""  # noqa: S608 (built from this module's constants only)


def seed_bulk(*, scale: int) -> str:
    from focusedroom.bulk import bulk_execute, bulk_session

    bulk_session()
    params = _templates() | {
        "version": INVENTORY_VERSION,
        "metadata": json.dumps(
            {"inventory": {"id": INVENTORY_ID, "version": INVENTORY_VERSION}, "source": "demo", "demo": True}
        ),
    }
    results = bulk_execute(BULK_CUSTOMER_RESULTS_SQL, params)
    anonymous_target = max(3, scale // 5)
    anonymous_existing = QuizResult.objects.filter(customer__isnull=True, quiz_metadata__demo=True).count()
    anonymous = 0
    if anonymous_existing < anonymous_target:
        anonymous = bulk_execute(
            BULK_ANONYMOUS_RESULTS_SQL, params | {"start": anonymous_existing + 1, "stop": anonymous_target}
        )
    events = bulk_execute(BULK_EVENTS_SQL)
    return f"{results} customer and {anonymous} anonymous Big Five results, {events} events created (bulk SQL)"
