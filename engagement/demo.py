"""Demo data for the engagement app (idempotent): Big Five results and blog engagement.

Runs after ``accounts.demo`` (``manage.py seed_demo``), which creates the people
``demo.customerNNNNN@example.com``. Most of them took the test (everyone acquired
through the test, some of the others), about one in five came back for a second or
third report, some tests are anonymous, and the demo blog posts have likes and votes.
Results are scored with the real scoring and insights code; they are bulk-inserted, so
no ``quiz_completed`` signal fires (no gems for demo tests).
"""

from __future__ import annotations

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
    from accounts.models import User

    now = timezone.now()
    people = list(
        User.all_objects.filter(email__startswith=DEMO_EMAIL_PREFIX, is_staff=False).order_by("email")[:scale]
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
