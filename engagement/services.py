"""Writes of the engagement app.

The event log (``event_record``: other apps call it inside their transactions), the Big
Five submission (``bigfive_clean``, ``bigfive_submit``), quiz gems
(``quiz_result_record_gems``) and blog engagement (``blog_engagement_record``).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import signals as accounts_signals
from accounts.selectors import BIG_FIVE_TEST_CHANNEL_ID, holds_account, is_member
from accounts.services import (
    clean_email,
    clean_profile,
    hash_token,
    person_fill_empty_profile,
    person_give_marketing_consent,
    person_identify,
    person_lock,
    person_update_profile,
)
from engagement import signals
from engagement.bigfive import scoring as bigfive_scoring
from engagement.bigfive.insights import Insights, InsightsGenerator, PersonContext, default_generator
from engagement.bigfive.inventory import INVENTORY_ID, INVENTORY_VERSION, ITEMS
from engagement.bigfive.scoring import AnswersError, clean_answers
from engagement.models import (
    BIG_FIVE_LATEST_VIEW,
    BlogEngagement,
    BlogEngagementType,
    CompareLink,
    Event,
    PendingResult,
    QuizResult,
    QuizType,
    Sex,
)
from focusedroom.context import RequestContext
from focusedroom.delivery import Step, run_once, signal_steps
from focusedroom.email import send_templated_email_later
from focusedroom.errors import Conflict, NotFound, PermissionDenied
from focusedroom.tasks import defer


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
    occurred_at: datetime | None = None,
) -> Event:
    """Append one event; IP, user agent and device type come from ``context`` when given.
    ``occurred_at``: when it happened, for an event recorded later by a worker (default: now)."""
    context = context or RequestContext.system()
    extra = {"created_at": occurred_at} if occurred_at is not None else {}
    return Event.objects.create(
        **extra,
        event_type=event_type,
        user=user,
        anonymous_id=anonymous_id,
        **({"brand": brand} if brand is not None else {}),  # else the default brand (the column's default)
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
DURATION_MAX_SECONDS = 24 * 3600  # a longer gap is a tab left open, not a duration


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
    started_at: datetime | None = None  # when the person opened the test (a signed time from the form)


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
    started_at: datetime | None = None,
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
        started_at=started_at,
    )


def _duration_seconds(started_at: datetime | None) -> int | None:
    """How long the person took, from opening the test to submitting it (None when unknown)."""
    if started_at is None:
        return None
    seconds = int((timezone.now() - started_at).total_seconds())
    return seconds if 0 < seconds <= DURATION_MAX_SECONDS else None


def _first_name(name: str) -> str:
    return (name or "").strip().split(" ")[0][:100]


PENDING_PER_DAY = 3  # emails offering a test to one person in 24 hours; more stay unattached


def _latest_sex(user) -> str:
    """The sex a person gave with their latest test (norms are by sex; people have no sex field)."""
    return (
        QuizResult.objects.filter(customer=user, quiz_type=QuizType.BIG_FIVE)
        .exclude(sex="")
        .order_by("-report_id")
        .values_list("sex", flat=True)
        .first()
        or ""
    )


def _next_report_id(user) -> int:
    """The person's next report number; call it with the person's row locked."""
    latest = QuizResult.objects.filter(customer=user, quiz_type=QuizType.BIG_FIVE).aggregate(latest=Max("report_id"))
    return (latest["latest"] or 0) + 1


@dataclass
class _Owner:
    """Whom a submission is for, decided before anything is stored."""

    user: Any = None  # the person the result is attached to now (None: anonymous or pending)
    pending_for: Any = None  # the account holder who is offered the result by email
    is_self: bool = False  # the person is logged in: their own act
    identified: bool = False  # person_identify found or made them: ``person_identified`` is due (from the worker)
    created: bool = False  # ... and the person is new

    @property
    def kind(self) -> str:
        if self.is_self:
            return "self"
        if self.pending_for is not None:
            return "pending"
        return "address" if self.user is not None else "anonymous"


def _owner(*, data: BigFiveInput, context: RequestContext, anonymous_id: str) -> _Owner:
    """Ownership before attachment (see ``bigfive_submit``). Runs inside the submission's transaction."""
    actor = context.actor if is_member(context.actor) else None
    if actor is not None:
        if data.email and data.email != actor.email:
            raise ValidationError(
                {
                    "email": [
                        f"You are logged in as {actor.email}: your test is saved to your account. "
                        "Leave the email empty."
                    ]
                }
            )
        # The person's own act: their profile gets what they gave (a blank never erases), row locked.
        user = person_update_profile(user=actor, data=data.profile, context=context)
        if data.opt_in and user.is_email_verified and not user.marketing_opt_in:
            person_give_marketing_consent(user=user, context=context, source=context.source)
        return _Owner(user=user, is_self=True)
    if not data.email:
        return _Owner()
    user, _created = person_identify(
        email=data.email,
        profile=data.profile,
        channel_id=BIG_FIVE_TEST_CHANNEL_ID,
        anonymous_id=anonymous_id,
        context=context,
        protect_account_holders=True,
        announce=False,  # announced by the worker (engagement.result_recorded)
    )
    if user.deleted_at is not None or user.is_staff:
        return _Owner()  # stored anonymously; the answer is the same as for anyone
    if holds_account(user):
        return _Owner(pending_for=user)  # the worker offers it, at most PENDING_PER_DAY a day
    return _Owner(user=user, identified=True, created=_created)  # a record nobody has claimed: seed 000's flow


def bigfive_submit(
    *,
    data: BigFiveInput,
    context: RequestContext,
    generator: InsightsGenerator | None = None,
) -> QuizResult:
    """Score and store a Big Five test; the page and the API both call this.

    **Ownership before attachment.** Whose history the result joins is decided by who is
    proven to act, never by the email typed:

    - a logged-in member (page or API, session or token): the result is theirs at once, numbered
      in their history; their profile fills the demographics left blank and gets what they gave;
      the norms use their sex (from their latest test when not given) and age; marketing consent
      is given only if they ask and their address is verified;
    - not logged in, with the address of someone who holds an account (a password of their own
      or a verified address; ``accounts.selectors.holds_account``): the result stays unattached
      (no customer, no number) and shows its own scores only; the person's profile, consent,
      history and balance are untouched; an email to that address offers to add the report to
      their history (``pending_result_confirm``);
    - not logged in, with a new address or one whose customer record nobody has claimed (seed
      000's flow): the customer is found or created on channel 1 and the result numbered in
      their history; demographics as the seed has it (a blank never erases); consent is never
      switched on by a test of an unverified address — the verification link offers it;
    - no email: anonymous.

    One transaction that writes the person (when new or unclaimed), the result and **one job**,
    ``engagement.result_recorded``: the person's row is locked while the next ``report_id`` is
    taken (a new person's first report is 1; the unique constraint (customer, quiz_type,
    report_id) is the backstop). Everything else happens in a worker, after the commit, exactly
    once (``quiz_result_announce``): ``person_identified`` (when the address found or made the
    person), ``quiz_completed`` (with the attached person, or None), the ``quiz_completed`` event
    and the emailed offer to an account holder. Emails leave from a worker, so the answer takes
    as long whoever the address is.
    """
    generator = generator or default_generator
    anonymous_id = context.visitor_id
    tracking = {**context.utm, **data.tracking}
    if "referrer" not in tracking and context.referrer:
        tracking["referrer"] = context.referrer[: TRACKING_MAX_LENGTH["referrer"]]
    try:
        with transaction.atomic():
            owner = _owner(data=data, context=context, anonymous_id=anonymous_id)
            user = owner.user
            # A new person's first report is 1; anyone else's is numbered with their row locked.
            report_id = None if user is None else (1 if owner.created else _next_report_id(user))
            # Norms and insights use what this submission says; only the person's own act adds what we know.
            known = user if owner.is_self else None
            sex = data.sex or (_latest_sex(known) if known is not None else "")
            age = data.profile.get("age", known.age if known else None)
            person = PersonContext(
                first_name=_first_name(
                    data.profile.get("name", "") or ((known.first_name or known.name) if known else "")
                ),
                career_stage=data.profile.get("career_stage", known.career_stage if known else ""),
                purpose=data.profile.get("purpose", known.purpose if known else ""),
                profession=data.profile.get("profession", known.profession if known else ""),
                age=age,
            )
            scores = bigfive_scoring.score(answers=data.answers, sex=sex or None, age=age)
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
                    "attachment": owner.kind,
                    "duration_seconds": _duration_seconds(data.started_at),
                },
                suggestions=insights.as_text(),
                sex=sex,
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
            defer(
                "engagement.result_recorded",
                result_id=result.pk,
                identified=owner.identified,
                created=owner.created,
                pending_for=owner.pending_for.pk if owner.pending_for is not None else None,
                context=context.sealed(),  # encrypted: no address or visitor id in clear in the job table
            )
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "constraint_name", None) == REPORT_UNIQUE_CONSTRAINT:
            raise Conflict("Another test for this email was saved at the same moment. Please submit again.") from exc
        raise
    return result


def quiz_result_announce(
    *,
    result_id: int,
    identified: bool = False,
    created: bool = False,
    pending_for: int | None = None,
    context: str | None = None,
) -> None:
    """What follows a stored Big Five result, in a worker (``engagement.result_recorded``).

    Steps, in this order, each at most once per result (``focusedroom.delivery.run_once``: one
    transaction when all goes well; otherwise each step on its own and the job retried for the
    ones that failed): every receiver of ``accounts.signals.person_identified`` (when the
    submission's address found or made the person), every receiver of ``quiz_completed``
    (``identified`` tells them the visitor is already linked), the ``quiz_completed`` event (dated
    when the result was stored) and, for an account holder's address, the emailed offer to add the
    report to their history. The arguments are those ``bigfive_submit`` queued (``context``: the
    submission's ``RequestContext``, sealed).
    """
    result = QuizResult.objects.select_related("customer").filter(pk=result_id).first()
    if result is None:  # erased since: nothing left to announce
        return
    act = RequestContext.from_sealed(context) or RequestContext.system(source="task")
    anonymous_id = act.visitor_id  # the submission's visitor id, as bigfive_submit stored it
    user = result.customer
    steps: list[Step] = []
    if identified and user is not None:
        steps += signal_steps(
            accounts_signals.person_identified,
            label="person_identified",
            sender=type(user),
            user=user,
            created=created,
            anonymous_id=anonymous_id,
            context=act,
        )
    steps += signal_steps(
        signals.quiz_completed,
        label="quiz_completed",
        sender=QuizResult,
        result=result,
        user=user,
        anonymous_id=anonymous_id,
        context=act,
        identified=identified and user is not None,
    )
    steps.append(Step("engagement.quiz_completed_event", lambda: _result_event(result=result, context=act)))
    if pending_for is not None:
        steps.append(Step("engagement.pending_offer", lambda: _pending_offer_to(result=result, user_id=pending_for)))
    run_once(key=f"engagement.result_recorded:{result.pk}", steps=steps)


def _result_event(*, result: QuizResult, context: RequestContext) -> Event:
    metadata = result.quiz_metadata or {}
    return event_record(
        event_type="quiz_completed",
        user=result.customer,
        anonymous_id=metadata.get("anonymous_id", "") or "",
        metadata={
            "quiz_type": result.quiz_type,
            "result_id": result.pk,
            "public_id": result.public_id,
            "report_id": result.report_id,
            "result_type": result.result_type,
            "source": metadata.get("source", context.source),
        },
        page_url=context.page_url,
        session_identifier=str(result.session_identifier or ""),
        context=context,
        occurred_at=result.created_at,
    )


def _pending_offer_to(*, result: QuizResult, user_id: int) -> PendingResult | None:
    """Offer the result to the account holder unless they were offered ``PENDING_PER_DAY`` in the last
    day (then it stays unattached, its own scores only). Their row is locked: parallel workers count
    one after the other."""
    user = person_lock(user_id)
    if user is None:  # erased or deleted since the test
        return None
    recent = PendingResult.objects.filter(
        user=user, attached_at__isnull=True, created_at__gt=timezone.now() - timedelta(days=1)
    ).count()
    if recent >= PENDING_PER_DAY:
        return None
    return _pending_offer(result=result, user=user, profile=(result.quiz_metadata or {}).get("demographics", {}))


# ----------------------------------------------------------- results waiting for their owner


def _pending_offer(*, result: QuizResult, user, profile: dict[str, Any]) -> PendingResult:
    """Keep the link between an unattached result and the account holder, and email them the offer."""
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    pending = PendingResult.objects.create(
        result=result,
        user=user,
        token_hash=hash_token(raw),
        profile={k: v for k, v in profile.items() if k in PROFILE_INPUT_FIELDS},
        created_at=now,
        expires_at=now + timedelta(days=settings.PENDING_RESULT_TTL_DAYS),
    )
    send_templated_email_later(
        to=user.email,
        subject="Add your Big Five report to your FocusedRoom history?",
        template="pending_result",
        context={
            "name": user.first_name or user.name,
            "taken_at": result.created_at,
            "link": settings.SITE_URL + reverse("bigfive-pending", args=[raw]),
            "ttl_days": settings.PENDING_RESULT_TTL_DAYS,
        },
    )
    return pending


def pending_result_get(*, raw_token: str) -> PendingResult:
    """The offer behind an emailed link, or a clear error: unknown or already added 404, expired 409."""
    pending = (
        PendingResult.objects.select_related("result", "user")
        .filter(token_hash=hash_token(raw_token or ""), user__deleted_at__isnull=True)
        .first()
    )
    if pending is None:
        raise NotFound("This link is not valid.")
    if pending.attached_at is not None:
        raise Conflict("This report is already in your history.", extra={"public_id": pending.result.public_id})
    if pending.expires_at <= timezone.now():
        raise Conflict("This link has expired. Log in and take the test again to keep a report in your history.")
    return pending


@transaction.atomic
def pending_result_confirm(*, raw_token: str, context: RequestContext) -> QuizResult:
    """The person followed the emailed link and pressed the button: the report joins their history.

    The link proves the address. The account must have a verified address (an account whose
    address nobody proved receives nothing that belongs to the address). The result gets the
    next report number and the person's id; the demographics given with the test fill only the
    fields the person left empty; quiz gems are paid once per result (``quiz_result_attached``);
    consent never changes here.
    """
    pending = pending_result_get(raw_token=raw_token)
    pending = PendingResult.objects.select_for_update().select_related("result", "user").get(pk=pending.pk)
    if pending.attached_at is not None:  # a parallel click won
        raise Conflict("This report is already in your history.", extra={"public_id": pending.result.public_id})
    user = pending.user
    if not user.is_email_verified:
        raise Conflict(
            "The account with this address has not confirmed its email yet. Confirm it first (we can send a new "
            "link), then follow this link again.",
            extra={"reason": "unverified", "email": user.email},
        )
    # Locks the person's row (numbering) and fills only the empty fields.
    person_fill_empty_profile(user=user, profile=pending.profile, context=context, source="link")
    result = QuizResult.objects.select_for_update().get(pk=pending.result_id)
    result.customer = user
    result.report_id = _next_report_id(user)
    result.is_email_verified = True
    result.verification_timestamp = user.email_verified_at
    result.save(update_fields=["customer", "report_id", "is_email_verified", "verification_timestamp"])
    pending.attached_at = timezone.now()
    pending.save(update_fields=["attached_at"])
    signals.quiz_result_attached.send(sender=QuizResult, result=result, user=user, context=context)
    event_record(
        event_type="quiz_result_attached",
        user=user,
        metadata={"quiz_type": result.quiz_type, "result_id": result.pk, "report_id": result.report_id},
        context=context,
    )
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


# ---------------------------------------------------------------------- compare links

COMPARE_SIGNATURE_SALT = "engagement.compare_link"
COMPARE_OPEN_LINKS_MAX = 20  # links waiting for someone, per person: more is spam, not sharing


def compare_link_signature(public_id: str) -> str:
    """The signature the invitation link carries (HMAC-SHA256 keyed by SECRET_KEY; nothing stored)."""
    return salted_hmac(COMPARE_SIGNATURE_SALT, public_id, algorithm="sha256").hexdigest()[:32]


def compare_link_invite_path(link: CompareLink) -> str:
    return reverse("bigfive-compare-invite", args=[link.public_id, compare_link_signature(link.public_id)])


def _member_required(user, message: str) -> None:
    if not is_member(user):
        raise PermissionDenied(message)


@transaction.atomic
def compare_link_create(*, owner, result: QuizResult, context: RequestContext) -> CompareLink:
    """A member invites someone to compare profiles with one of their own reports."""
    _member_required(owner, "Log in with your member account to compare your reports.")
    if result.customer_id != owner.pk or result.quiz_type != QuizType.BIG_FIVE:
        raise NotFound("No such report.")
    open_links = CompareLink.objects.filter(owner=owner, guest__isnull=True, revoked_at__isnull=True).count()
    if open_links >= COMPARE_OPEN_LINKS_MAX:
        raise Conflict(
            f"You already have {open_links} compare links waiting for someone. Revoke some in My reports first."
        )
    link = CompareLink.objects.create(owner=owner, owner_result=result)
    event_record(
        event_type="compare_link_created",
        user=owner,
        metadata={"compare_link": link.public_id, "report_id": result.report_id},
        context=context,
    )
    return link


def compare_link_for_invite(*, public_id: str, signature: str) -> CompareLink:
    """The link behind an invitation URL, or NotFound (unknown, badly signed, revoked, or its owner gone)."""
    link = (
        CompareLink.objects.select_related("owner", "owner_result", "guest")
        .filter(public_id=(public_id or "")[:32], owner__deleted_at__isnull=True)
        .first()
    )
    if link is None or not constant_time_compare(signature or "", compare_link_signature(link.public_id)):
        raise NotFound("This compare link is not valid.")
    if link.revoked_at is not None:
        raise NotFound("This compare link was revoked.")
    return link


@transaction.atomic
def compare_link_join(
    *, link: CompareLink, guest, result: QuizResult | None = None, context: RequestContext
) -> CompareLink:
    """The person who opened the invitation shares one of their reports (their latest by default).

    The first member to join holds the link: from then on only the two of them see the comparison."""
    _member_required(guest, "Log in with your member account to compare.")
    link = CompareLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is not None:
        raise NotFound("This compare link was revoked.")
    if link.owner_id == guest.pk:
        raise ValidationError(
            {"guest": ["This is your own compare link: send it to the person you want to compare with."]}
        )
    if link.guest_id is not None:
        if link.guest_id == guest.pk:
            return link
        raise NotFound("This compare link has already been used by someone else.")
    if result is None:
        result = QuizResult.objects.filter(customer=guest, quiz_type=QuizType.BIG_FIVE).order_by("-report_id").first()
    if result is None:
        raise ValidationError({"result": ["Take the test first: the comparison needs a report of yours."]})
    if result.customer_id != guest.pk:
        raise NotFound("No such report.")
    link.guest, link.guest_result, link.joined_at = guest, result, timezone.now()
    link.save(update_fields=["guest", "guest_result", "joined_at"])
    event_record(
        event_type="compare_link_joined",
        user=guest,
        metadata={"compare_link": link.public_id, "report_id": result.report_id},
        context=context,
    )
    return link


@transaction.atomic
def compare_link_revoke(*, link: CompareLink, user, context: RequestContext) -> CompareLink:
    """Either side ends the comparison: nobody sees it any more (revoking twice changes nothing)."""
    link = CompareLink.objects.select_for_update().get(pk=link.pk)
    if user is None or user.pk not in (link.owner_id, link.guest_id):
        raise NotFound("No such comparison.")
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), user
        link.save(update_fields=["revoked_at", "revoked_by"])
        event_record(
            event_type="compare_link_revoked", user=user, metadata={"compare_link": link.public_id}, context=context
        )
    return link


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


# ------------------------------------------------------------ latest Big Five results


def big_five_latest_refresh(*, concurrently: bool = True) -> int:
    """Refresh the ``big_five_latest`` materialised view (every customer's latest Big Five result).

    ``concurrently`` (the default) builds the new contents beside the old and swaps them in
    (``REFRESH MATERIALIZED VIEW CONCURRENTLY``, possible thanks to its unique index): audience
    counts keep reading the old rows meanwhile and are never blocked. Returns the row count.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        keyword = " CONCURRENTLY" if concurrently else ""
        cursor.execute(f"REFRESH MATERIALIZED VIEW{keyword} {BIG_FIVE_LATEST_VIEW}")
        cursor.execute(f"SELECT count(*) FROM {BIG_FIVE_LATEST_VIEW}")  # noqa: S608 — a constant name
        return int(cursor.fetchone()[0])
