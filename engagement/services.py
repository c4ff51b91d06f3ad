"""Writes of the engagement app.

The event log (``event_record``: other apps call it inside their transactions), the Big
Five submission (``bigfive_clean``, ``bigfive_submit``), quiz gems
(``quiz_result_record_gems``) and blog engagement (``blog_engagement_record``).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.crypto import salted_hmac

from accounts.selectors import BIG_FIVE_TEST_CHANNEL_ID
from accounts.services import clean_email, clean_profile, person_identify
from engagement import signals
from engagement.bigfive import scoring as bigfive_scoring
from engagement.bigfive.insights import Insights, InsightsGenerator, PersonContext, default_generator
from engagement.bigfive.inventory import INVENTORY_ID, INVENTORY_VERSION, ITEMS
from engagement.bigfive.scoring import AnswersError, clean_answers
from engagement.models import BlogEngagement, BlogEngagementType, Event, QuizResult, QuizType, Sex
from focusedroom.context import RequestContext
from focusedroom.errors import Conflict


def event_record(
    *,
    event_type: str,
    user=None,
    anonymous_id: str = "",
    brand=None,
    metadata: dict[str, Any] | None = None,
    product_id: int | None = None,
    points_awarded: int = 0,
    page_url: str = "",
    experiment_context: str = "",
    variant_context: str = "",
    session_identifier: str = "",
    context: RequestContext | None = None,
) -> Event:
    """Append one event; IP, user agent and device type come from ``context`` when given."""
    context = context or RequestContext.system()
    return Event.objects.create(
        event_type=event_type,
        user=user,
        anonymous_id=anonymous_id,
        brand=brand,
        metadata=metadata or {},
        product_id=product_id,
        points_awarded=points_awarded,
        page_url=page_url,
        experiment_context=experiment_context,
        variant_context=variant_context,
        session_identifier=session_identifier,
        ip_address=context.ip,
        user_agent=context.user_agent,
        device_type=context.device_type,
    )


# ---------------------------------------------------------------- quizzes (Big Five)

PROFILE_INPUT_FIELDS = ("name", "age", "profession", "career_stage", "purpose")
TRACKING_MAX_LENGTH = {"utm_source": 100, "utm_medium": 100, "utm_campaign": 100, "referrer": 2000}
EXPERIMENT_DATA_MAX_BYTES = 4000
REPORT_UNIQUE_CONSTRAINT = "quiz_result_customer_report_unique"


@dataclass(frozen=True)
class BigFiveInput:
    """A validated Big Five submission (see ``bigfive_clean``)."""

    answers: dict[str, int]
    email: str
    profile: dict[str, Any]
    sex: str
    opt_in: bool
    session_identifier: uuid.UUID | None
    tracking: dict[str, str]
    experiment_data: dict[str, Any] | None


def bigfive_clean(
    *,
    answers: Any,
    email: str | None = "",
    name: str | None = "",
    age: Any = None,
    profession: str | None = "",
    career_stage: str | None = "",
    purpose: str | None = "",
    sex: str | None = "",
    opt_in: bool = False,
    session_identifier: Any = None,
    tracking: dict[str, Any] | None = None,
    experiment_data: Any = None,
) -> BigFiveInput:
    """Validate everything a submission carries; every problem is reported at once.

    Raises ``ValidationError`` with a field -> messages dict (``answers``, ``email``,
    ``age``, ``sex``, …). Nothing is written.
    """
    errors: dict[str, list[str]] = {}
    cleaned_answers: dict[str, int] = {}
    try:
        cleaned_answers = clean_answers(answers)
    except AnswersError as exc:
        errors.update(exc.errors)

    cleaned_email = ""
    if email is not None and str(email).strip():
        try:
            cleaned_email = clean_email(str(email))
        except ValidationError as exc:
            errors.update(exc.message_dict)

    profile_in = {"name": name, "age": age, "profession": profession, "career_stage": career_stage, "purpose": purpose}
    profile: dict[str, Any] = {}
    try:
        profile = clean_profile(profile_in)
    except ValidationError as exc:
        errors.update(exc.message_dict)

    sex = (sex or "").strip().upper()
    if sex and sex not in Sex.values:
        errors["sex"] = ["Choose M or F, or leave it empty."]

    session_uuid = None
    if session_identifier not in (None, ""):
        try:
            session_uuid = uuid.UUID(str(session_identifier))
        except ValueError:
            errors["session_identifier"] = ["Must be a UUID."]

    clean_tracking: dict[str, str] = {}
    for key, value in (tracking or {}).items():
        if key not in TRACKING_MAX_LENGTH or value in (None, ""):
            continue
        clean_tracking[key] = str(value).strip()[: TRACKING_MAX_LENGTH[key]]

    if experiment_data is not None:
        if not isinstance(experiment_data, dict):
            errors["experiment_data"] = ["Must be an object."]
        elif len(json.dumps(experiment_data, default=str)) > EXPERIMENT_DATA_MAX_BYTES:
            errors["experiment_data"] = [f"At most {EXPERIMENT_DATA_MAX_BYTES} bytes of JSON."]

    if errors:
        raise ValidationError(errors)
    return BigFiveInput(
        answers=cleaned_answers,
        email=cleaned_email,
        profile=profile,
        sex=sex,
        opt_in=bool(opt_in),
        session_identifier=session_uuid,
        tracking=clean_tracking,
        experiment_data=experiment_data,
    )


def _first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0][:100]


def bigfive_submit(
    *,
    data: BigFiveInput,
    context: RequestContext,
    generator: InsightsGenerator | None = None,
) -> QuizResult:
    """Score and store a Big Five test; the page and the API both call this.

    One transaction: with an email, the customer is found by normalised email or
    created on channel 1 (``accounts.services.person_identify``: a blank field never
    erases a stored value; the person's row comes back locked, so the next
    ``report_id`` computed right after cannot be taken by a concurrent submission — the
    unique constraint (customer, quiz_type, report_id) is the backstop). Without an
    email the result is anonymous (no customer, no report_id). After storing, sends
    ``quiz_completed`` and records a ``quiz_completed`` event. A constant number of
    queries whatever the customer's history.
    """
    generator = generator or default_generator
    anonymous_id = context.visitor_id
    tracking = {**context.utm, **data.tracking}
    if "referrer" not in tracking and context.referrer:
        tracking["referrer"] = context.referrer[: TRACKING_MAX_LENGTH["referrer"]]
    try:
        with transaction.atomic():
            user = None
            report_id = None
            if data.email:
                user, _created = person_identify(
                    email=data.email,
                    profile=data.profile,
                    marketing_opt_in=data.opt_in,
                    channel_id=BIG_FIVE_TEST_CHANNEL_ID,
                    anonymous_id=anonymous_id,
                    context=context,
                )
                latest = QuizResult.objects.filter(customer=user, quiz_type=QuizType.BIG_FIVE).aggregate(
                    latest=Max("report_id")
                )["latest"]
                report_id = (latest or 0) + 1
            # Norms and insights use what this submission says, else what we know.
            age = data.profile.get("age", user.age if user else None)
            person = PersonContext(
                first_name=_first_name(data.profile.get("name", "") or (user.first_name or user.name if user else "")),
                career_stage=data.profile.get("career_stage", user.career_stage if user else ""),
                purpose=data.profile.get("purpose", user.purpose if user else ""),
                profession=data.profile.get("profession", user.profession if user else ""),
                age=age,
            )
            scores = bigfive_scoring.score(answers=data.answers, sex=data.sex or None, age=age)
            insights = _build_insights(generator, scores=scores, person=person)
            result = QuizResult.objects.create(
                customer=user,
                quiz_type=QuizType.BIG_FIVE,
                quiz_version=INVENTORY_VERSION,
                report_id=report_id,
                scores=scores,
                result_type=bigfive_scoring.result_type(scores),
                result_details={"insights": insights.as_dict()},
                questions_and_answers={item.id: data.answers[item.id] for item in ITEMS},
                quiz_metadata={
                    "inventory": {"id": INVENTORY_ID, "version": INVENTORY_VERSION},
                    "source": context.source,
                    "anonymous_id": anonymous_id,
                    "channel_id": BIG_FIVE_TEST_CHANNEL_ID,
                    "demographics": dict(data.profile),
                    "marketing_opt_in": data.opt_in,
                },
                suggestions=insights.as_text(),
                sex=data.sex,
                age=age,
                norm_group=scores["norm_group"]["id"],
                first_name=person.first_name,
                user_agent=context.user_agent,
                ip_address=context.ip,
                referrer=tracking.get("referrer", ""),
                utm_source=tracking.get("utm_source", ""),
                utm_medium=tracking.get("utm_medium", ""),
                utm_campaign=tracking.get("utm_campaign", ""),
                country_code=(user.country_code if user else "") or "",
                device_type=context.device_type,
                is_email_verified=bool(user and user.is_email_verified),
                verification_timestamp=user.email_verified_at if user else None,
                session_identifier=data.session_identifier,
                experiment_data=data.experiment_data,
            )
            signals.quiz_completed.send(
                sender=QuizResult, result=result, user=user, anonymous_id=anonymous_id, context=context
            )
            event_record(
                event_type="quiz_completed",
                user=user,
                anonymous_id=anonymous_id,
                metadata={
                    "quiz_type": QuizType.BIG_FIVE,
                    "result_id": result.pk,
                    "public_id": result.public_id,
                    "report_id": report_id,
                    "result_type": result.result_type,
                    "source": context.source,
                },
                page_url=context.page_url,
                session_identifier=str(data.session_identifier or ""),
                context=context,
            )
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "constraint_name", None) == REPORT_UNIQUE_CONSTRAINT:
            raise Conflict("Another test for this email was saved at the same moment. Please submit again.") from exc
        raise
    return result


def _build_insights(generator: InsightsGenerator, *, scores: dict, person: PersonContext) -> Insights:
    """Structured insights when the generator offers them, else its text as one block."""
    build = getattr(generator, "build", None)
    if callable(build):
        return build(scores=scores, person=person)
    text = generator.generate(scores=scores, person=person)
    return Insights(domains={}, suggestions=[], generator=type(generator).__name__, text=text)


def quiz_result_record_gems(*, result: QuizResult, gems: int) -> None:
    """Record the Insight Gems a quiz earned (called by the rewards app's quiz_completed receiver)."""
    if isinstance(gems, bool) or not isinstance(gems, int) or gems < 0:
        raise ValidationError({"gems": ["Gems must be a whole number of at least 0."]})
    QuizResult.objects.filter(pk=result.pk).update(earned_gems=gems)
    result.earned_gems = gems


# ------------------------------------------------------------------ blog engagement

BLOG_IDENTIFIER_SALT = "engagement.blog_engagement.user_identifier"
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def blog_visitor_identifier(context: RequestContext) -> str:
    """A keyed hash (HMAC-SHA256, key derived from SECRET_KEY) of the visitor's IP and user agent."""
    value = f"{context.ip or ''}\n{context.user_agent}"
    return salted_hmac(BLOG_IDENTIFIER_SALT, value, algorithm="sha256").hexdigest()


def blog_engagement_clean(*, post_slug: Any, engagement_type: Any, feedback_text: Any = "") -> dict[str, str]:
    errors: dict[str, list[str]] = {}
    slug = str(post_slug or "").strip().lower()
    if not slug:
        errors["post_slug"] = ["This field is required."]
    elif len(slug) > 255 or not _SLUG.match(slug):
        errors["post_slug"] = ["Use the post's slug: letters, numbers, hyphens or underscores (at most 255)."]
    kind = str(engagement_type or "").strip()
    if kind not in BlogEngagementType.values:
        errors["engagement_type"] = [f"Choose one of: {', '.join(BlogEngagementType.values)}."]
    text = str(feedback_text or "").strip()
    if text and kind != BlogEngagementType.HELPFUL_NO:
        errors["feedback_text"] = ["Feedback can only be sent with 'helpful_no'."]
    elif len(text) > BlogEngagement.FEEDBACK_MAX_LENGTH:
        errors["feedback_text"] = [f"At most {BlogEngagement.FEEDBACK_MAX_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)
    return {"post_slug": slug, "engagement_type": kind, "feedback_text": text}


@transaction.atomic
def blog_engagement_record(
    *, post_slug: Any, engagement_type: Any, feedback_text: Any = "", context: RequestContext
) -> tuple[BlogEngagement, bool]:
    """Record a visitor's engagement once; a repeat returns the existing record (``created`` False)."""
    data = blog_engagement_clean(post_slug=post_slug, engagement_type=engagement_type, feedback_text=feedback_text)
    return BlogEngagement.objects.get_or_create(
        post_slug=data["post_slug"],
        engagement_type=data["engagement_type"],
        user_identifier=blog_visitor_identifier(context),
        defaults={"feedback_text": data["feedback_text"]},
    )
